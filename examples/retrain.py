"""Retrain every layer on the target, starting from the baseline weights.

The most plastic adaptation from the baseline: the source is forgotten fastest.

    python examples/retrain.py                 # synthetic wild -> lab-a, about a minute on a CPU
    python examples/retrain.py --quick         # tiny sizes: a few seconds, a smoke test
    python examples/retrain.py --source-root ~/data/fer2013.csv --target-root ~/data/jaffe
"""

from common import parse_args, prepare

args = parse_args(__doc__)
ex = prepare(args)  # synthetic or real data, and the source-trained baseline
strategy = ex.strategy("retrain")
strategy.train(ex.target_exp, eval_streams=[])
ex.report(strategy, "retrain")
