"""Learning without Forgetting (Avalanche's LwF): distil the baseline's outputs while adapting.

No source image is kept: the frozen baseline acts as a teacher on the target images. make_strategy
makes the baseline the teacher when it is given the source's training experience (ex.strategy does).

    python examples/lwf.py                 # synthetic wild -> lab-a, about a minute on a CPU
    python examples/lwf.py --quick         # tiny sizes: a few seconds, a smoke test
    python examples/lwf.py --source-root ~/data/fer2013.csv --target-root ~/data/jaffe
"""

from common import parse_args, prepare

args = parse_args(__doc__)
ex = prepare(args)  # synthetic or real data, and the source-trained baseline
strategy = ex.strategy("lwf")  # source=ex.source_exp: the baseline becomes the teacher
strategy.train(ex.target_exp, eval_streams=[])
ex.report(strategy, "lwf")
