"""LP-FT: train the FC head alone first (a linear probe, as ft-fc), then fine-tune every layer.

Kumar et al. (ICLR 2022) showed that fine-tuning everything from a random head distorts the pretrained
features; probing first gives the full fine-tuning a head that already fits the target. Here the first
half of the step budget (`probe_fraction = 0.5`) trains the head, the second half the whole network:
one budget in total.

    python examples/lp_ft.py                 # synthetic wild -> lab-a, about a minute on a CPU
    python examples/lp_ft.py --quick         # tiny sizes: a few seconds, a smoke test
    python examples/lp_ft.py --source-root ~/data/fer2013.csv --target-root ~/data/jaffe
"""

from common import parse_args, prepare

args = parse_args(__doc__)
ex = prepare(args)  # synthetic or real data, and the source-trained baseline
steps = args.epochs * -(-len(ex.target_exp.dataset) // 32)  # what `epochs` of the target take
strategy = ex.strategy("lp-ft", probe_fraction=0.5, max_steps=steps)
strategy.train(ex.target_exp, eval_streams=[])
split = strategy.fer_row_extras({})["lp_ft"]
print(f"steps: {split['probe_steps']} head only + {split['finetune_steps']} every layer")
ex.report(strategy, "lp-ft")
