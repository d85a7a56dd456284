"""Learning without Forgetting (Avalanche's LwF): distil the baseline's outputs while adapting.

No source image is kept: the frozen baseline acts as a teacher on the target images. The runner's
warm_start() makes the baseline the teacher before the first target experience.

    python examples/lwf.py                 # synthetic wild -> lab-a, about a minute on a CPU
    python examples/lwf.py --source-root ~/data/fer2013.csv --target-root ~/data/jaffe
"""

from common import parse_args, prepare

from fer_avalanche.strategies import warm_start

args = parse_args(__doc__)
ex = prepare(args)  # synthetic or real data, and the source-trained baseline
strategy = ex.strategy("lwf")
warm_start(strategy, ex.source_exp)  # the source knowledge the regulariser protects
strategy.train(ex.target_exp, eval_streams=[])
ex.report(strategy, "lwf")
