"""Replay: a bounded, class-balanced buffer of source images mixed into the target training set.

The cheap cousin of fusion: how much source data buys how much memory? Change mem_size below.

    python examples/replay.py                 # synthetic wild -> lab-a, about a minute on a CPU
    python examples/replay.py --quick         # tiny sizes: a few seconds, a smoke test
    python examples/replay.py --source-root ~/data/fer2013.csv --target-root ~/data/jaffe
"""

from common import parse_args, prepare

args = parse_args(__doc__)
ex = prepare(args)  # synthetic or real data, and the source-trained baseline
strategy = ex.strategy("replay", mem_size=500, selection="class_balanced")
strategy.train(ex.target_exp, eval_streams=[])
ex.report(strategy, "replay")
