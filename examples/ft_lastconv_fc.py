"""Fine-tune the last convolutional block and the FC layers: the paper's "FC + last conv".

Only `features` is frozen. More capacity for the target than FC alone, more forgetting of the source.

    python examples/ft_lastconv_fc.py                 # synthetic wild -> lab-a, about a minute on a CPU
    python examples/ft_lastconv_fc.py --quick         # tiny sizes: a few seconds, a smoke test
    python examples/ft_lastconv_fc.py --source-root ~/data/fer2013.csv --target-root ~/data/jaffe
"""

from common import parse_args, prepare

args = parse_args(__doc__)
ex = prepare(args)  # synthetic or real data, and the source-trained baseline
strategy = ex.strategy("ft-lastconv-fc")
strategy.train(ex.target_exp, eval_streams=[])
ex.report(strategy, "ft-lastconv-fc")
