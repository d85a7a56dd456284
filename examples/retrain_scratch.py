"""Retrain every layer on the target from a fresh initialisation.

The other reading of the paper's "retrain": weights, BatchNorm buffers and optimizer state start anew,
so nothing of the source is kept: the lower bound of memory integrity.

    python examples/retrain_scratch.py                 # synthetic wild -> lab-a, about a minute on a CPU
    python examples/retrain_scratch.py --quick         # tiny sizes: a few seconds, a smoke test
    python examples/retrain_scratch.py --source-root ~/data/fer2013.csv --target-root ~/data/jaffe
"""

from common import parse_args, prepare

args = parse_args(__doc__)
ex = prepare(args)  # synthetic or real data, and the source-trained baseline
strategy = ex.strategy("retrain-scratch")
strategy.train(ex.target_exp, eval_streams=[])
ex.report(strategy, "retrain-scratch")
