"""Elastic Weight Consolidation (Avalanche's EWC): penalise moving weights that mattered for the source.

Passing the source's training experience to make_strategy (ex.strategy does) computes the Fisher
importances on the source before adapting; no source image is kept.

    python examples/ewc.py                 # synthetic wild -> lab-a, about a minute on a CPU
    python examples/ewc.py --quick         # tiny sizes: a few seconds, a smoke test
    python examples/ewc.py --source-root ~/data/fer2013.csv --target-root ~/data/jaffe
"""

from common import parse_args, prepare

args = parse_args(__doc__)
ex = prepare(args)  # synthetic or real data, and the source-trained baseline
strategy = ex.strategy("ewc")  # source=ex.source_exp: the importances come from the source
strategy.train(ex.target_exp, eval_streams=[])
ex.report(strategy, "ewc")
