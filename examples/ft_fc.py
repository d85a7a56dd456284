"""Fine-tune only the fully connected layers: the paper's "FC" strategy.

The convolutional parts (`features`, `last_conv`) are frozen: their weights and BatchNorm statistics
do not change and they are not in the optimizer. The least plastic of the paper's strategies, and
the one that keeps most of the source.

    python examples/ft_fc.py                 # synthetic wild -> lab-a, about a minute on a CPU
    python examples/ft_fc.py --quick         # tiny sizes: a few seconds, a smoke test
    python examples/ft_fc.py --source-root ~/data/fer2013.csv --target-root ~/data/jaffe
"""

from common import parse_args, prepare

args = parse_args(__doc__)
ex = prepare(args)  # synthetic or real data, and the source-trained baseline
strategy = ex.strategy("ft-fc")
strategy.train(ex.target_exp, eval_streams=[])
ex.report(strategy, "ft-fc")
