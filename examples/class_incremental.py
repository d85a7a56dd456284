"""Class-incremental ("NC") learning: one dataset split into experiences of expression classes.

The baseline learns the first class group; naive fine-tuning and replay then learn the other groups in
turn, on one 7-way head. Naive forgets the earlier classes (its predictions move to the newest ones);
a small buffer of earlier images keeps part of them. For each strategy the script prints the accuracy
matrix R[i][j] (accuracy on experience j's test set after step i), average accuracy, forgetting, and
the memory integrity of the first experience (its accuracy after the last step / after its own).
`fer-avalanche run class_incremental` runs the same protocol from a scenario file.

    python examples/class_incremental.py            # synthetic wild, 3 experiences, ~1 min on a CPU
    python examples/class_incremental.py --quick    # tiny sizes: a few seconds, a smoke test
    python examples/class_incremental.py --source-root ~/data/fer2013.csv
"""

import argparse
import copy

from fer_avalanche import (
    apply_split,
    class_incremental_benchmark,
    load_dataset,
    make_domain,
    make_evaluator,
    make_model,
    make_strategy,
    memory_integrity,
)
from fer_avalanche.metrics import AccuracyMatrix
from fer_avalanche.utils import resolve_device, seed_everything

#: The experiences, in training order (names or label indices; every class at most once).
GROUPS = [["happy", "sad"], ["surprise", "neutral"], ["angry", "disgust", "fear"]]

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--source-format", default="fer2013", help="format of --source-root (default fer2013)")
p.add_argument("--source-root", help="real dataset to split (default: synthetic 'wild')")
p.add_argument("--epochs", type=int, help="epochs per experience (default 6; --quick: 4)")
p.add_argument("--mem-size", type=int, default=200, help="replay buffer size (default 200)")
p.add_argument("--quick", action="store_true", help="tiny data: runs in seconds (smoke test)")
p.add_argument("--device", default="auto")
p.add_argument("--seed", type=int, default=0)
args = p.parse_args()
n, epochs = (1000, 4) if args.quick else (3000, 6)
epochs = args.epochs or epochs

seed_everything(args.seed)
device = resolve_device(args.device)
if args.source_root:
    data = apply_split(load_dataset(args.source_format, args.source_root), "official")
else:
    data = make_domain("wild", n=n, seed=args.seed)
bm = class_incremental_benchmark(data, GROUPS)
names = bm.dataset_names
evaluator, fer_metrics = make_evaluator(data.num_classes, data.label_space.names)
settings = dict(epochs=epochs, batch_size=16, device=device, evaluator=evaluator, seed=args.seed)

# The baseline: the first experience only.
model = make_model(num_classes=data.num_classes, width=8, dropout=0.1)
baseline = make_strategy("naive", model, lr=2e-3, augment=False, **settings)
print(f"training the baseline on {names[0]} ({len(bm.train_stream[0].dataset)} images) ...")
baseline.train(bm.train_stream[0], eval_streams=[])
baseline.eval(bm.test_stream)
after_first = fer_metrics.accuracies()

for name, options in (("naive", {}), ("replay", {"mem_size": args.mem_size})):
    strategy = make_strategy(
        name,
        copy.deepcopy(baseline.model),
        source=bm.train_stream[0],
        lr=3e-3,
        augment=False,
        **settings,
        **options,
    )
    matrix = AccuracyMatrix(list(names))
    matrix.append(after_first, trained=names[0])
    for k in range(1, len(names)):
        strategy.train(bm.train_stream[k], eval_streams=[])
        strategy.eval(bm.test_stream)
        matrix.append(fer_metrics.accuracies(), trained=names[k])
    print(f"\n{name}: accuracy matrix R of {data.name} (rows: after training on; columns: test set)")
    groups = [d.split("/", 1)[-1] for d in names]  # the classes of each experience
    width = max(len(g) for g in groups) + 2
    print(" " * width + "".join(f"{g:>{width}s}" for g in groups))
    for group, row in zip(groups, matrix.rows, strict=True):
        print(f"{group:{width}s}" + "".join(f"{acc:{width}.3f}" for acc in row))
    summary = matrix.summary()
    mi = memory_integrity(fer_metrics.accuracies(), after_first, names[0])[
        "memory_integrity"
    ]  # after the last step
    print(
        f"{name}: average accuracy = {summary['average_accuracy']:.3f}   "
        f"forgetting = {summary['forgetting']:.3f}   max forgetting = {summary['max_forgetting']:.3f}"
    )
    print(f"{name}: memory integrity = {mi:.3f}   (first experience: after the last step / after its own)")
