"""Fusion: train on the union of the source and target training sets (the paper's best trade-off).

Starts from the baseline weights (pass from_scratch=True for a fresh start). Each epoch sees every
source image, so it costs far more than the other strategies; 2 epochs here.

    python examples/fusion.py                 # synthetic wild -> lab-a, about a minute on a CPU
    python examples/fusion.py --quick         # tiny sizes: a few seconds, a smoke test
    python examples/fusion.py --source-root ~/data/fer2013.csv --target-root ~/data/jaffe
"""

from common import parse_args, prepare

args = parse_args(__doc__, epochs=2)  # fusion sees the whole source every epoch
ex = prepare(args)  # synthetic or real data, and the source-trained baseline
strategy = ex.strategy("fusion")
strategy.train(ex.target_exp, eval_streams=[])
ex.report(strategy, "fusion")
