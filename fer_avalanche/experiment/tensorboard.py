"""TensorBoard logs of a run, written by the client from the records (so they do not depend on where
cells ran): ``tb/<strategy>/<target or sequence>/seed<k>[/fold<f>]`` and ``tb/baseline/seed<k>``.

Scalars: ``FER/train_loss`` and ``FER/train_acc`` per training epoch (x = epochs so far),
``FER/val_acc/<dataset>`` (the validation curve, x = epoch), and after each step (x = step)
``FER/acc/<dataset>``, ``FER/macro_f1/<dataset>``, ``FER/memory_integrity``, ``FER/source_drop`` and
``FER/target_gain/<target>``; images: ``FER/confusion/<dataset>`` after the last step, and the run's
``FER/accuracy_matrix`` and ``FER/tradeoff`` plots under ``tb/summary``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from torch.utils.tensorboard import SummaryWriter

    from fer_avalanche.config import Variant
    from fer_avalanche.experiment.records import BaselineRecord, CellRecord

__all__ = ["write_cell_events", "write_baseline_events", "write_summary_images", "cell_log_dir"]


def cell_log_dir(
    run_dir: Path, strategy: str, target: str, seed: int, fold: int | None, variant: Variant = ()
) -> Path:
    parts = [strategy, target, f"seed{seed}"] + ([] if fold is None else [f"fold{fold}"])
    if variant:  # a sweep's variant: one folder each
        from fer_avalanche.config import variant_slug

        parts.append(variant_slug(variant))
    return run_dir.joinpath("tb", *parts)


def _writer(path: Path) -> SummaryWriter:
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(str(path))


def _history(
    writer: SummaryWriter, history: Sequence[dict[str, Any]], curve: Sequence[dict[str, Any]], offset: int
) -> int:
    for entry in history:
        writer.add_scalar("FER/train_loss", entry["loss"], offset + entry["epoch"])
        writer.add_scalar("FER/train_acc", entry["acc"], offset + entry["epoch"])
    for point in curve:
        for name, acc in point["acc"].items():
            writer.add_scalar(f"FER/val_acc/{name}", acc, offset + point["epoch"])
    return offset + len(history)


def write_cell_events(
    run_dir: Path, record: CellRecord, rows: Sequence[dict[str, Any]], label_names: Sequence[str]
) -> None:
    """The events of one finished cell (``record``: its CellRecord; ``rows``: its results rows)."""
    from fer_avalanche.figures import confusion_image

    cell = record.cell
    target = cell.targets[0] if cell.kind == "pairwise" else "sequence"
    writer = _writer(cell_log_dir(run_dir, cell.strategy, target, cell.seed, cell.fold, cell.variant))
    try:
        epochs = 0
        for index, (step, row) in enumerate(zip(record.steps, rows, strict=True), start=1):
            epochs = _history(writer, step.history, step.curve, epochs)
            for name, result in step.evaluation.items():
                writer.add_scalar(f"FER/acc/{name}", result.acc, index)
                writer.add_scalar(f"FER/macro_f1/{name}", result.macro_f1, index)
            for tag in ("memory_integrity", "source_drop"):
                if row[tag] == row[tag]:  # not NaN
                    writer.add_scalar(f"FER/{tag}", row[tag], index)
            writer.add_scalar(f"FER/target_gain/{row['target']}", row["target_gain"], index)
        for name, result in record.steps[-1].evaluation.items():
            image = confusion_image(
                result.confusion, list(label_names), title=f"{name} (acc {result.acc:.1%})"
            )
            writer.add_image(f"FER/confusion/{name}", np.asarray(image.convert("RGB")), dataformats="HWC")
    finally:
        writer.close()


def write_baseline_events(run_dir: Path, record: BaselineRecord) -> None:
    """Training history, validation curve and evaluations of a seed's baseline."""
    writer = _writer(run_dir / "tb" / "baseline" / f"seed{record.seed}")
    try:
        _history(writer, record.history, record.curve, 0)
        for fold, evaluation in record.evaluations.items():
            for name, result in evaluation.items():
                writer.add_scalar(f"FER/acc/{name}", result.acc, 0 if fold is None else fold)
    finally:
        writer.close()


def write_summary_images(run_dir: Path) -> None:
    """The accuracy-matrix and trade-off plots as TensorBoard images (``tb/summary``)."""
    from PIL import Image

    writer = _writer(run_dir / "tb" / "summary")
    try:
        for name in ("accuracy_matrix", "tradeoff"):
            path = run_dir / f"{name}.png"
            if path.is_file():
                with Image.open(path) as image:
                    writer.add_image(f"FER/{name}", np.asarray(image.convert("RGB")), dataformats="HWC")
    finally:
        writer.close()
