"""Typed records of an experiment's results, and the ``results.json`` dict built from them.

- :class:`StepRecord`: one training step of a cell (a target): the evaluation on every dataset (the
  metrics module's :class:`~fer_avalanche.metrics.EvalResult`), the budget it was given, its
  validation curve, the selected epoch, its per-epoch training history and its time;
- :class:`CellRecord`: a finished cell (its :class:`~fer_avalanche.experiment.plan.Cell`, the key of
  the settings that produced it, its steps), saved as ``cells/<cell>.json``;
- :class:`BaselineRecord`: a seed's baseline (weights, key, training facts, its evaluation on the
  datasets of every fold).

:func:`build_results` turns them into the :class:`~fer_avalanche.results.Results` that
:mod:`fer_avalanche.reporting` reads: rows via :func:`~fer_avalanche.metrics.memory_integrity`, sequences via
:class:`~fer_avalanche.metrics.AccuracyMatrix`.

Example:
    >>> from fer_avalanche.metrics import summarize_confusion
    >>> r = summarize_confusion([[3, 1], [0, 4]])
    >>> eval_from_dict(eval_to_dict(r)).acc
    0.875
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fer_avalanche.experiment.plan import Cell
from fer_avalanche.metrics import (
    AccuracyMatrix,
    EvalResult,
    decode_classes,
    memory_integrity,
    summarize_confusion,
)
from fer_avalanche.results import Results
from fer_avalanche.strategies.plugins.budget import ZERO_BUDGET

__all__ = [
    "StepRecord",
    "CellRecord",
    "BaselineRecord",
    "eval_to_dict",
    "eval_from_dict",
    "rows_of",
    "sequence_of",
    "build_results",
    "TIMING_KEYS",
    "ZERO_BUDGET",
]

#: Keys of a results row that depend on timing, not on the experiment (ignored when comparing runs).
TIMING_KEYS = ("train_time_s",)

Evaluation = dict[str, EvalResult]


def eval_to_dict(result: EvalResult) -> dict[str, Any]:
    """An evaluation as JSON (the metrics module's own encoding)."""
    return result.to_dict()


def eval_from_dict(raw: Mapping[str, Any]) -> EvalResult:
    """Inverse of :func:`eval_to_dict` (metrics re-derived from the confusion matrix)."""
    result = summarize_confusion(raw["confusion"])
    for name in ("labels", "predictions"):
        if raw.get(name) is not None:
            setattr(result, name, decode_classes(raw[name]))
    return result


@dataclass
class StepRecord:
    """One training step of a cell: what the model scores on every dataset after training on ``target``."""

    target: str
    evaluation: Evaluation
    budget: dict[str, Any] = field(default_factory=lambda: dict(ZERO_BUDGET))
    curve: list[dict[str, Any]] = field(default_factory=list)
    selected_epoch: int | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    train_time_s: float = 0.0
    #: The model selection the strategy ran with: ``{"select", "monitor", "patience",
    #: "patience_steps"}`` (``{}``: no validation, e.g. ``baseline`` or a cell recorded before it).
    selection: dict[str, Any] = field(default_factory=dict)
    #: more row entries (JSON-ready): ``absent_classes``, ``target_absent``, wise-ft's ``alpha``, ...
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "evaluation": {d: eval_to_dict(r) for d, r in self.evaluation.items()},
            "budget": self.budget,
            "curve": self.curve,
            "selected_epoch": self.selected_epoch,
            "selection": self.selection,
            "history": self.history,
            "train_time_s": round(float(self.train_time_s), 3),
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> StepRecord:
        return cls(
            target=raw["target"],
            evaluation={d: eval_from_dict(r) for d, r in raw["evaluation"].items()},
            budget=dict(raw.get("budget") or ZERO_BUDGET),
            curve=list(raw.get("curve") or []),
            selected_epoch=raw.get("selected_epoch"),
            history=list(raw.get("history") or []),
            train_time_s=float(raw.get("train_time_s", 0.0)),
            selection=dict(raw.get("selection") or {}),
            extra=dict(raw.get("extra") or {}),
        )


@dataclass
class CellRecord:
    """A finished cell: what ``cells/<cell>.json`` holds."""

    cell: Cell
    key: dict[str, Any]
    steps: list[StepRecord]
    #: The final network's weights (``torch.save`` bytes) when the run saves models; not in the JSON.
    state: bytes | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"cell": self.cell.to_dict(), "key": self.key, "steps": [s.to_dict() for s in self.steps]}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> CellRecord:
        return cls(
            Cell.from_dict(raw["cell"]), dict(raw["key"]), [StepRecord.from_dict(s) for s in raw["steps"]]
        )


@dataclass
class BaselineRecord:
    """A seed's baseline: its weights (``state``, ``torch.save`` bytes), key and evaluations.

    ``evaluations[fold]`` is its evaluation on the source and the targets of that fold (``None``: the
    targets without folds).
    """

    seed: int
    key: dict[str, Any]
    state: bytes
    checkpoint: str
    reused: bool
    train_time_s: float = 0.0
    budget: dict[str, Any] = field(default_factory=lambda: dict(ZERO_BUDGET))
    curve: list[dict[str, Any]] = field(default_factory=list)
    selected_epoch: int | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    evaluations: dict[int | None, Evaluation] = field(default_factory=dict)

    def evaluation_for(self, datasets: Sequence[str], fold: int | None) -> Evaluation:
        """The baseline's evaluation on ``datasets`` (from the entry of ``fold``, else the fold-free one)."""
        out: Evaluation = {}
        for name in datasets:
            for entry in (self.evaluations.get(fold, {}), self.evaluations.get(None, {})):
                if name in entry:
                    out[name] = entry[name]
                    break
        return out

    def summary(self) -> dict[str, Any]:
        """The facts ``results.json`` records for this baseline (no weights)."""
        return {
            "seed": self.seed,
            "checkpoint": self.checkpoint,
            "reused": self.reused,
            "train_time_s": round(float(self.train_time_s), 3),
            "budget": self.budget,
            "curve": self.curve,
            "selected_epoch": self.selected_epoch,
        }


# ------------------------------------------------------------------------------------ results.json
def _per_dataset(evaluation: Evaluation) -> dict[str, Any]:
    encoded = {d: eval_to_dict(r) for d, r in evaluation.items()}
    out: dict[str, Any] = {
        key: {d: e[key] for d, e in encoded.items()}
        for key in ("acc", "macro_f1", "per_class_acc", "confusion", "n")
    }
    if all("predictions" in e for e in encoded.values()):
        out["predictions"] = {d: e["predictions"] for d, e in encoded.items()}
    return out


def _row(cell: Cell, step: StepRecord, baseline: Evaluation, source: str) -> dict[str, Any]:
    acc = {d: r.acc for d, r in step.evaluation.items()}
    base = {d: r.acc for d, r in baseline.items()}
    mi = memory_integrity(acc, base, source)
    target_gain = acc[step.target] - base[step.target] if step.target in base else math.nan
    return {
        "strategy": cell.strategy,
        "target": step.target,
        "seed": cell.seed,
        "fold": cell.fold,
        "variant": dict(cell.variant),
        **_per_dataset(step.evaluation),
        "memory_integrity": mi["memory_integrity"],
        "source_drop": mi["source_drop"],
        "target_gain": target_gain,
        "budget": step.budget,
        "curve": step.curve,
        "selected_epoch": step.selected_epoch,
        "monitor": step.selection.get("monitor"),
        "train_time_s": round(float(step.train_time_s), 3),
        **{k: v for k, v in step.extra.items() if k not in _ROW_KEYS},
    }


#: Keys a step's ``extra`` may not replace in its row.
_ROW_KEYS = frozenset(
    {"strategy", "target", "seed", "fold", "acc", "macro_f1", "per_class_acc", "confusion", "n",
     "predictions", "memory_integrity", "source_drop", "target_gain", "budget", "curve", "selected_epoch",
     "train_time_s"}
)  # fmt: skip


def rows_of(record: CellRecord, baseline: BaselineRecord, source: str) -> list[dict[str, Any]]:
    """The results rows of a cell: one per step (sequential rows also carry ``step``, 1-based)."""
    names = [source, *record.cell.targets]
    base = baseline.evaluation_for(names, record.cell.fold)
    rows = [_row(record.cell, step, base, source) for step in record.steps]
    if record.cell.kind == "sequence":
        for index, row in enumerate(rows, start=1):
            row["step"] = index
    return rows


def sequence_of(record: CellRecord, baseline: BaselineRecord, source: str) -> dict[str, Any]:
    """The accuracy matrix of a sequence cell (row 0 = the baseline) and its summaries."""
    order = [source, *record.cell.targets]
    base = baseline.evaluation_for(order, record.cell.fold)
    matrix = AccuracyMatrix(order)
    matrix.append({d: base[d].acc for d in order}, trained=source)
    for step in record.steps:
        matrix.append({d: step.evaluation[d].acc for d in order}, trained=step.target)
    return {
        "strategy": record.cell.strategy,
        "seed": record.cell.seed,
        "fold": record.cell.fold,
        "order": order,
        "matrix": matrix.matrix.tolist(),
        **{k: float(v) for k, v in matrix.summary().items()},
    }


def _baseline_entries(
    baselines: Sequence[BaselineRecord], serves: Mapping[int, list[dict[str, Any]]] | None = None
) -> list[dict[str, Any]]:
    entries = []
    for i, record in enumerate(baselines):
        for fold, evaluation in record.evaluations.items():
            entry = {
                "seed": record.seed,
                "fold": fold,
                **_per_dataset(evaluation),
                **_labels(evaluation),
                **record.summary(),
            }
            if serves is not None and i in serves:
                entry["variants"] = serves[i]  # a sweep whose variants do not all share this baseline
            entries.append(entry)
    return entries


def _labels(evaluation: Evaluation) -> dict[str, Any]:
    encoded = {d: eval_to_dict(r) for d, r in evaluation.items()}
    if all("labels" in e for e in encoded.values()):
        return {"labels": {d: e["labels"] for d, e in encoded.items()}}
    return {}


def _baseline_summary(entries: list[dict[str, Any]], source: str) -> dict[str, Any]:
    datasets = list(dict.fromkeys(d for e in entries for d in e["acc"]))
    mean = {
        key: {d: float(np.mean([e[key][d] for e in entries if d in e[key]])) for d in datasets}
        for key in ("acc", "macro_f1")
    }
    first = entries[0]
    first_of = {d: next(e for e in entries if d in e["acc"]) for d in datasets}
    return {
        "source": source,
        **mean,
        "per_class_acc": {d: first_of[d]["per_class_acc"][d] for d in datasets},
        "confusion": {d: first_of[d]["confusion"][d] for d in datasets},
        "per_seed": {
            str(e["seed"]): {"acc": e["acc"], "checkpoint": e["checkpoint"], "reused": e["reused"]}
            for e in entries
            if e["fold"] in (None, first["fold"])
        },
    }


def build_results(
    mode: str,
    scenario_name: str,
    datasets: Sequence[str],
    label_names: Sequence[str],
    seeds: Sequence[int],
    baselines: Sequence[BaselineRecord],
    cells: Sequence[CellRecord],
    baseline_of: Mapping[Cell, int] | None = None,
) -> Results:
    """The :class:`~fer_avalanche.results.Results` of finished baselines and cells (no intervals yet:
    :func:`fer_avalanche.stats.add_intervals` adds them).

    ``baseline_of`` maps a cell to the index of its baseline in ``baselines`` (a sweep whose variants
    train different baselines); without it every cell takes the baseline of its seed. A baseline that
    serves only some variants of a sweep lists them in its entries' ``variants``.

    Raises:
        ReportError: a record holds a value the results model cannot hold (a bug, named by its key).
    """
    source = datasets[0]
    by_seed = {b.seed: i for i, b in enumerate(baselines)}
    index_of = (lambda c: baseline_of[c]) if baseline_of is not None else (lambda c: by_seed[c.seed])
    rows: list[dict[str, Any]] = []
    sequences: list[dict[str, Any]] = []
    served: dict[int, list[dict[str, Any]]] = {}
    for record in cells:
        i = index_of(record.cell)
        baseline = baselines[i]
        if dict(record.cell.variant) not in served.setdefault(i, []):
            served[i].append(dict(record.cell.variant))
        rows += rows_of(record, baseline, source)
        if record.cell.kind == "sequence":
            sequences.append({**sequence_of(record, baseline, source), "variant": dict(record.cell.variant)})
    all_variants = list(dict.fromkeys(str(sorted(dict(c.cell.variant).items())) for c in cells))
    partial = {i: v for i, v in served.items() if len(v) < len(all_variants)}
    entries = _baseline_entries(baselines, partial if baseline_of is not None else None)
    absent = {r["target"]: r["target_absent"] for r in rows if r.get("target_absent") is not None}
    raw = {
        "scenario": scenario_name,
        "mode": mode,
        "source": source,
        "datasets": list(datasets),
        "label_names": list(label_names),
        "seeds": list(seeds),
        "folds": sorted({c.cell.fold for c in cells}, key=lambda f: -1 if f is None else f),
        "baselines": entries,
        "baseline": _baseline_summary(entries, source),
        "rows": rows,
        "sequences": sequences,
        "absent_classes": absent,
    }
    return Results.from_json(raw, "results")
