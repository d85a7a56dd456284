"""Shared set-up of the example scripts: data, the source baseline, and the before/after table.

Every example adapts the same baseline with one strategy, so the part that differs (a few lines)
stands alone in each script. By default the data are the embedded synthetic domains (``wild`` as the
source, ``lab-a`` as the target); ``--source-root``/``--target-root`` switch to real datasets on disk.
``--quick`` shrinks everything (1200 source and 280 target images, width 8, 6 baseline epochs, 2
adaptation epochs) so a script finishes in about half a minute on one CPU thread: the baseline still
learns (0.39 source accuracy at seed 0 against a chance of 0.14; 600 images and 4 epochs gave 0.28),
but the target has 56 test images, so the adaptation's numbers are a smoke test, not a result.
"""

from __future__ import annotations

import argparse
import copy
from dataclasses import dataclass
from typing import Any

import torch

from fer_avalanche import (
    cross_dataset_benchmark,
    load_dataset,
    make_domain,
    make_evaluator,
    make_model,
    make_strategy,
    memory_integrity,
)
from fer_avalanche.data.splits import apply_split
from fer_avalanche.utils import resolve_device, seed_everything

#: Sizes of a normal run and of ``--quick``: synthetic images, CNN width, the baseline's epochs and
#: batch size, adaptation epochs.
SIZES: dict[str, dict[str, int]] = {
    "default": {
        "source_n": 3000,
        "target_n": 700,
        "width": 8,
        "baseline_epochs": 6,
        "baseline_batch": 64,
        "epochs": 8,
    },
    "quick": {
        "source_n": 1200,
        "target_n": 280,
        "width": 8,
        "baseline_epochs": 6,
        "baseline_batch": 32,
        "epochs": 2,
    },
}


def parse_args(doc: str | None, epochs: int | None = None) -> argparse.Namespace:
    """The options every example accepts; ``epochs`` overrides the default adaptation epochs.

    After parsing, the keys of :data:`SIZES` are attributes of the result (``args.source_n``,
    ``args.width``, ``args.epochs``, ...), from ``--quick`` or the defaults; ``--epochs``/``--width`` win.
    """
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source-format", default="fer2013", help="format of --source-root (default fer2013)")
    p.add_argument("--source-root", help="real source dataset (default: synthetic 'wild')")
    p.add_argument("--target-format", default="jaffe", help="format of --target-root (default jaffe)")
    p.add_argument("--target-root", help="real target dataset (default: synthetic 'lab-a')")
    p.add_argument("--epochs", type=int, help="adaptation epochs (default 8; --quick: 2)")
    p.add_argument("--width", type=int, help="CNN width (default 8; 64 = the paper's size)")
    p.add_argument("--quick", action="store_true", help="tiny data and model: runs in seconds (smoke test)")
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    sizes = dict(SIZES["quick" if args.quick else "default"])
    if epochs is not None and not args.quick:
        sizes["epochs"] = epochs
    for key, value in sizes.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    return args


@dataclass
class Example:
    """What an example needs: the benchmark, the baseline, the device and an evaluator."""

    args: argparse.Namespace
    benchmark: Any
    baseline: torch.nn.Module
    device: torch.device
    evaluator: Any
    fer_metrics: Any
    before: dict[str, float]

    @property
    def source_exp(self) -> Any:
        return self.benchmark.train_stream[0]

    @property
    def target_exp(self) -> Any:
        return self.benchmark.train_stream[1]

    @property
    def val_sets(self) -> dict[str, Any]:
        """The validation splits by dataset name, the source first (for ``wise-ft``, ``best_val``)."""
        return {exp.dataset_name: exp.dataset for exp in self.benchmark.valid_stream}

    def strategy(self, name: str, **options: Any) -> Any:
        """The named strategy over a copy of the baseline, with this example's settings.

        ``source`` is the source's training experience: ``make_strategy`` warm-starts from it (LwF's
        teacher, EWC's importances, ...) and rehearsal strategies draw their buffer from it.
        """
        return make_strategy(
            name,
            copy.deepcopy(self.baseline),
            source=self.source_exp,
            epochs=self.args.epochs,
            batch_size=32,
            lr=1e-3,
            device=self.device,
            evaluator=self.evaluator,
            seed=self.args.seed,
            **options,
        )

    def report(self, strategy: Any, title: str) -> dict[str, float]:
        """Evaluate on every test set and print accuracy before/after and memory integrity."""
        strategy.eval(self.benchmark.test_stream)
        after = self.fer_metrics.accuracies()
        source, target = self.benchmark.dataset_names
        mi = memory_integrity(after, self.before, source)
        print(f"\n{title}")
        print(f"{'dataset':12s} {'baseline':>9s} {'adapted':>9s}")
        for name in (source, target):
            print(f"{name:12s} {self.before[name]:9.3f} {after[name]:9.3f}")
        gain = mi["target_gain"][target]
        print(f"memory integrity = {mi['memory_integrity']:.3f}   target gain = {gain:+.3f}")
        return after


def prepare(args: argparse.Namespace) -> Example:
    """Load the two datasets, train the baseline on the source, evaluate it everywhere."""
    seed_everything(args.seed)
    device = resolve_device(args.device)
    if args.source_root:
        source = apply_split(load_dataset(args.source_format, args.source_root), "official")
    else:
        source = make_domain("wild", n=args.source_n, seed=args.seed)
    if args.target_root:
        target = apply_split(
            load_dataset(args.target_format, args.target_root),
            "fractions",
            fractions=(0.615, 0.07, 0.315),
            seed=args.seed,
        )
    else:
        target = make_domain("lab-a", n=args.target_n, seed=args.seed)
    benchmark = cross_dataset_benchmark([source, target], with_validation=True)
    evaluator, fer_metrics = make_evaluator(source.num_classes, source.label_space.names)
    model = make_model(num_classes=source.num_classes, width=args.width)
    pretrain = make_strategy(
        "naive",
        model,
        epochs=args.baseline_epochs,
        batch_size=args.baseline_batch,
        lr=2e-3,
        device=device,
        evaluator=evaluator,
        seed=args.seed,
    )
    print(f"training the baseline on {source.name} ({source.counts()['train']} images) ...")
    pretrain.train(benchmark.train_stream[0], eval_streams=[])
    pretrain.eval(benchmark.test_stream)
    return Example(args, benchmark, pretrain.model, device, evaluator, fer_metrics, fer_metrics.accuracies())
