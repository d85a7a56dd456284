"""Tables of a run, read from the attributes of :class:`~fer_avalanche.results.Results`: ``results.md``
(:func:`markdown_report`), ``results.csv`` (:func:`results_csv_rows`, :func:`csv_text`) and the paired
comparison (:func:`format_comparison`).

The metric columns are declared once, in :data:`METRICS` (name, header, how a row or summary entry
gives its value and interval, its scale): the CSV, the main table of ``results.md`` and its per-unit
table are drawn from that list. A field of :class:`~fer_avalanche.results.ResultRow` declared with
``metadata={"column": Column(...)}`` is a column too (after the declared ones; a summary shows the
mean over its units), so a new number a strategy records needs that one field in the model.

Example:
    >>> from fer_avalanche.results import Results
    >>> r = Results.from_json({"source": "s", "datasets": ["s", "t"],
    ...     "baseline": {"acc": {"s": 0.8, "t": 0.3}},
    ...     "rows": [{"strategy": "ft-fc", "target": "t", "seed": 0, "acc": {"s": 0.6, "t": 0.9},
    ...               "memory_integrity": 0.75}]})
    >>> header, rows = results_csv_rows(r)
    >>> rows[1]["strategy"], rows[1]["target_acc"], rows[1]["memory_integrity"]
    ('ft-fc', 0.9, 0.75)
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fer_avalanche.class_report import class_sections
from fer_avalanche.results import (
    JSON,
    BaselineEntry,
    Column,
    Interval,
    ResultRow,
    Results,
    SequenceResult,
    SummaryEntry,
    as_results,
    column_fields,
)
from fer_avalanche.stats import as_float

__all__ = [
    "LEGEND",
    "SEQ_LEGEND",
    "FRONT_MARK",
    "IMAGES_MARK",
    "Metric",
    "METRICS",
    "BUDGET_COLUMNS",
    "metrics",
    "results_csv_rows",
    "csv_text",
    "markdown_report",
    "format_comparison",
]

#: Definitions printed under the main table of ``results.md``.
LEGEND = """\
- **source acc** / **target acc**: top-1 accuracy (%) on the source / target test set after adaptation.
- **MI** (memory integrity) = acc_after[source] / acc_baseline[source]; 1.000 = nothing forgotten.
- **source drop** = acc_baseline[source] - acc_after[source], in percentage points (positive = forgotten).
- **target gain** = acc_after[target] - acc_baseline[target], in points; the baseline's target accuracy
  is its zero-shot cross-dataset accuracy.
- **[low, high]**: 95% confidence interval. With several units (seeds and/or folds): a t-interval over
  the units of the per-unit paired values, with the test images' variance added
  (mean ± t(k-1)·sqrt((s² + v)/k); it holds the training noise between seeds). With one unit: a
  percentile bootstrap over the test images of the cell (the adapted model and its baseline scored on
  the same resampled images, so MI and target gain are paired), never narrower than the test set's size
  allows (Wilson for an accuracy, so 67/67 right is not [100, 100]). A number without an interval has no
  per-sample predictions in the run (`mean ± sample std` over units is shown instead when there are
  several).
- **ⁱ** after an interval: it covers the **test images only** (one unit: a single seed and fold), not
  the training noise between seeds, which is often larger; a claim needs several seeds (3 at least,
  5 advised: README, "How many seeds a claim needs").
- **macro-F1** (%): unweighted mean of per-class F1 over the classes present in the test set's true
  labels (sklearn `f1_score(average="macro", labels=present)`); mean over units, no interval.
- **steps**: optimizer steps of the adaptation; **target passes**: samples of the target's training set
  seen / its size; **source samples**: samples of any other dataset seen (rehearsal: fusion, replay);
  means over units, as each row's `budget` records them.
- **units**: the (seed, fold) cells averaged in the row.
- **front** ★: on the Pareto front of target accuracy vs MI among this target's strategies (means; ties
  are all on the front; the baseline competes, so a strategy worse than not adapting on both is off it).
- **baseline**: the source-trained model before any adaptation."""

SEQ_LEGEND = """\
Sequential metrics over the accuracy matrix R (row 0 = after the source/baseline, row i = after step i,
column j = dataset j, trained at row j):
- **avg acc**: mean of the last row of R (every dataset, after the last step).
- **BWT** (GEM / Avalanche `StreamBWT`): mean over datasets trained before the last step of
  R[last, j] - R[j, j], in points; negative = forgetting. Includes the pre-trained source.
- **forgetting** (Avalanche `StreamForgetting`): mean of R[j, j] - R[last, j], in points (= -BWT).
- **max forgetting** (Chaudhry et al. 2018): mean of max over l in [j, last) of R[l, j] - R[last, j],
  in points (best accuracy ever had minus final)."""

FRONT_MARK = "★"
#: Appended to an interval that only resamples the test images (``ci_scope: "images"``: one unit).
IMAGES_MARK = "ⁱ"


# --------------------------------------------------------------------------- formatting
def _mean_std(values: Sequence[float]) -> tuple[float, float, int]:
    vals = [v for v in values if math.isfinite(v)]
    if not vals:
        return math.nan, math.nan, 0
    mean = float(np.mean(vals))
    std = float(np.std(vals, ddof=1)) if len(vals) > 1 else math.nan
    return mean, std, len(vals)


def _fmt(values: Sequence[float], scale: float = 100.0, digits: int = 1) -> str:
    """``mean`` or ``mean ± sample std`` of ``values`` (non-finite ignored; ``–`` when none)."""
    mean, std, n = _mean_std(values)
    if n == 0:
        return "–"
    text = f"{mean * scale:.{digits}f}"
    if n > 1:
        text += f" ± {std * scale:.{digits}f}"
    return text


def _fmt_ci(
    value: float | None,
    ci: Interval | None,
    scale: float = 100.0,
    digits: int = 1,
    spread: Sequence[float] = (),
    mark: str = "",
) -> str:
    """``value [low, high]`` (then ``mark``); without an interval ``_fmt(spread)`` (mean ± std over
    units) or the value."""
    v = as_float(value)
    if not math.isfinite(v):
        return "–"
    if ci is None or not ci.finite:
        finite = [x for x in spread if math.isfinite(x)]
        return _fmt(finite, scale, digits) if len(finite) > 1 else f"{v * scale:.{digits}f}"
    lo, hi = ci.lo * scale, ci.hi * scale
    return f"{v * scale:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]{mark}"


def _fmt_count(value: float | None, digits: int = 0) -> str:
    v = as_float(value)
    return "–" if not math.isfinite(v) else f"{v:,.{digits}f}"


def _unit_label(seed: int | str | None, fold: int | None) -> str:
    text = f"seed {seed if seed is not None else '–'}"
    return text + (f", fold {fold}" if fold is not None else "")


# --------------------------------------------------------------------------- columns
#: A row of the results or an entry of their summary: what a metric column reads.
Line = ResultRow | SummaryEntry


def _acc(line: Line, dataset: str) -> float | None:
    return line.acc.get(dataset)


def _ci_acc(line: Line, dataset: str) -> Interval | None:
    return line.ci.acc.get(dataset) if line.ci is not None else None


@dataclass(frozen=True)
class Metric:
    """A metric column of the tables: ``name`` in ``results.csv`` (with ``<name>_lo``/``<name>_hi``
    when it has an ``interval``), ``column.header`` in ``results.md``; ``value(line, source)`` and
    ``interval(line, source)`` read a :class:`ResultRow` or a :class:`SummaryEntry`; ``baseline`` is
    its cell in the baseline's line of ``results.md`` (given the baseline's units, its interval of
    source and target accuracy, the target and the images mark)."""

    name: str
    column: Column
    value: Callable[[Line, str], float | None]
    interval: Callable[[Line, str], Interval | None] | None = None
    #: position of its ``_lo``/``_hi`` columns among the CSV's interval bounds
    ci_rank: int = 0
    #: without an interval, show ``mean ± std`` over units (False: the mean alone)
    spread: bool = True
    #: in the per-unit table of ``results.md``
    per_unit: bool = True
    baseline: Callable[[_BaselineCell], str] | None = None


@dataclass(frozen=True)
class _BaselineCell:
    """What the baseline's line of ``results.md`` knows: its units, the mean's interval, the target."""

    entries: list[BaselineEntry]
    ci: Mapping[str, Interval | None]
    source: str
    target: str
    mark: str

    def acc(self, dataset: str) -> str:
        values = [as_float(b.acc.get(dataset)) for b in self.entries]
        return _fmt_ci(_mean_std(values)[0], self.ci.get(dataset), spread=values, mark=self.mark)

    def f1(self, dataset: str) -> str:
        f1 = [b.macro_f1 for b in self.entries if b.macro_f1]
        return _fmt_ci(_mean_std([as_float(f.get(dataset)) for f in f1])[0], None)


def _unless_no_target(text: str) -> Callable[[_BaselineCell], str]:
    return lambda b: text if b.target != "–" else "–"


METRICS: tuple[Metric, ...] = (
    Metric("source_acc", Column("source acc (%)"), lambda r, s: _acc(r, s), lambda r, s: _ci_acc(r, s),
           ci_rank=0, baseline=lambda b: b.acc(b.source)),
    Metric("target_acc", Column("target acc (%)"), lambda r, s: _acc(r, r.target),
           lambda r, s: _ci_acc(r, r.target), ci_rank=1,
           baseline=lambda b: b.acc(b.target) if b.target != "–" else "–"),
    Metric("memory_integrity", Column("MI", scale=1.0, digits=3), lambda r, s: r.memory_integrity,
           lambda r, s: r.ci.memory_integrity if r.ci else None, ci_rank=2, baseline=lambda b: "1.000"),
    Metric("source_drop", Column("source drop (pts)"), lambda r, s: r.source_drop,
           lambda r, s: r.ci.source_drop if r.ci else None, ci_rank=4, per_unit=False,
           baseline=lambda b: "0.0"),
    Metric("target_gain", Column("target gain (pts)"), lambda r, s: r.target_gain,
           lambda r, s: r.ci.target_gain if r.ci else None, ci_rank=3, baseline=_unless_no_target("0.0")),
    Metric("target_macro_f1", Column("target macro-F1 (%)"), lambda r, s: r.macro_f1.get(r.target),
           spread=False, per_unit=False, baseline=lambda b: b.f1(b.target) if b.target != "–" else "–"),
    Metric("source_macro_f1", Column("source macro-F1 (%)"), lambda r, s: r.macro_f1.get(s), spread=False,
           per_unit=False, baseline=lambda b: b.f1(b.source)),
)  # fmt: skip

#: The budget columns: key of :class:`~fer_avalanche.results.Budget`, header in ``results.md``
#: (``None``: CSV only) and digits.
BUDGET_COLUMNS: tuple[tuple[str, str | None, int], ...] = (
    ("steps", "steps", 0), ("target_passes", "target passes", 2), ("source_samples", "source samples", 0),
    ("epochs", None, 0),
)  # fmt: skip


def _field_metric(name: str, column: Column) -> Metric:
    def value(line: Line, source: str) -> float | None:
        v = getattr(line, name, None)
        return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    return Metric(name, column, value, baseline=lambda b: "–")


def metrics(row_type: type[ResultRow] = ResultRow) -> list[Metric]:
    """:data:`METRICS`, then a column per field of ``row_type`` declared with ``metadata["column"]``.

    Example:
        >>> [m.name for m in metrics()][:3]
        ['source_acc', 'target_acc', 'memory_integrity']
    """
    return [*METRICS, *(_field_metric(f.name, f.metadata["column"]) for f in column_fields(row_type))]


def _row_type(results: Results) -> type[ResultRow]:
    return type(results.rows[0]) if results.rows else ResultRow


def _summary_value(
    metric: Metric, entry: SummaryEntry, members: Sequence[ResultRow], source: str
) -> float | None:
    """A metric of a summary entry: its own field, else the mean over its units (a field-declared column)."""
    if metric in METRICS:
        return metric.value(entry, source)
    mean, _, n = _mean_std([as_float(metric.value(r, source)) for r in members])
    return mean if n else None


# --------------------------------------------------------------------------- csv
def _clean(v: JSON) -> JSON:
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return int(v)  # counts (budget steps, samples) stay integers
    f = as_float(v) if not isinstance(v, str) else v
    if isinstance(f, float):
        return round(f, 6) if math.isfinite(f) else ""
    return f


def _bounds(name: str, ci: Interval | None) -> dict[str, JSON]:
    lo, hi = (ci.lo, ci.hi) if ci is not None else (None, None)
    return {f"{name}_lo": _clean(lo), f"{name}_hi": _clean(hi)}


def results_csv_rows(results: Results | Mapping[str, JSON]) -> tuple[list[str], list[dict[str, JSON]]]:
    """Header and rows of ``results.csv``: baseline row(s) first (one per unit), then one per results row.

    Columns: ``strategy, target, seed, fold, [step,] [variant,]`` the metrics (:func:`metrics`:
    ``source_acc, target_acc, memory_integrity, source_drop, target_gain, target_macro_f1,
    source_macro_f1``), ``train_time_s, budget_steps, budget_target_passes, budget_source_samples,
    budget_epochs, selected_epoch``, the interval bounds ``<metric>_lo, <metric>_hi`` of source/target
    acc, MI, target gain and source drop, then ``acc_<dataset>..., acc_<dataset>_lo/_hi...,
    macro_f1_<dataset>...`` (fractions rounded to 6 decimals; empty = not applicable or unknown).
    Baseline rows have strategy ``baseline`` and no target.

    Example:
        >>> header, _ = results_csv_rows({"source": "s", "datasets": ["s"], "baseline": {"acc": {"s": 1.0}},
        ...                               "rows": []})
        >>> header[:6]
        ['strategy', 'target', 'seed', 'fold', 'source_acc', 'target_acc']
    """
    results = as_results(results)
    source, datasets, rows = results.source, results.dataset_names(), results.rows
    columns = metrics(_row_type(results))
    with_ci = sorted((m for m in columns if m.interval is not None), key=lambda m: m.ci_rank)
    has_step = any(r.step is not None for r in rows)
    header = ["strategy", "target", "seed", "fold"] + (["step"] if has_step else [])
    header += [m.name for m in columns] + ["train_time_s"]
    header += [f"budget_{k}" for k, _, _ in BUDGET_COLUMNS] + ["selected_epoch"]
    header += [f"{m.name}_{end}" for m in with_ci for end in ("lo", "hi")]
    header += [f"acc_{d}" for d in datasets]
    header += [f"acc_{d}_{end}" for d in datasets for end in ("lo", "hi")]
    header += [f"macro_f1_{d}" for d in datasets]
    swept = results.has_sweep()
    if swept:  # a sweep: which variant each row is (baseline rows: empty, shared by the variants)
        header.insert(4 + has_step, "variant")

    out: list[dict[str, JSON]] = []
    for entry in results.baselines:
        acc_ci = entry.ci.acc if entry.ci is not None else {}
        line: dict[str, JSON] = {
            "strategy": "baseline",
            "target": "",
            "seed": "" if entry.seed is None else entry.seed,
            "fold": "" if entry.fold is None else entry.fold,
            "source_acc": _clean(entry.acc.get(source)),
            "memory_integrity": 1.0,
            "source_drop": 0.0,
            "source_macro_f1": _clean(entry.macro_f1.get(source)),
            **_bounds("source_acc", acc_ci.get(source)),
        }
        out.append(line | _per_dataset(entry.acc, entry.macro_f1, acc_ci, datasets))
    for row in rows:
        line = {
            "strategy": row.strategy,
            "target": row.target,
            "seed": row.seed,
            "fold": "" if row.fold is None else row.fold,
        }
        if has_step:
            line["step"] = "" if row.step is None else row.step
        if swept:
            from fer_avalanche.config import variant_label

            line["variant"] = variant_label(dict(row.variant))
        line.update({m.name: _clean(m.value(row, source)) for m in columns})
        line["train_time_s"] = _clean(row.train_time_s)
        line.update({f"budget_{k}": _clean(row.budget.get(k)) for k, _, _ in BUDGET_COLUMNS})
        line["selected_epoch"] = "" if row.selected_epoch is None else row.selected_epoch
        for m in with_ci:
            line.update(_bounds(m.name, m.interval(row, source)))  # type: ignore[misc]
        acc_ci = row.ci.acc if row.ci is not None else {}
        out.append(line | _per_dataset(row.acc, row.macro_f1, acc_ci, datasets))
    return header, out


def _per_dataset(
    acc: Mapping[str, float],
    f1: Mapping[str, float],
    acc_ci: Mapping[str, Interval | None],
    datasets: Sequence[str],
) -> dict[str, JSON]:
    line: dict[str, JSON] = {f"acc_{d}": _clean(acc.get(d)) for d in datasets}
    for d in datasets:
        line.update(_bounds(f"acc_{d}", acc_ci.get(d)))
    line.update({f"macro_f1_{d}": _clean(f1.get(d)) for d in datasets})
    return line


def csv_text(results: Results) -> str:
    """The text of ``results.csv`` (:func:`results_csv_rows`, one line per row, ``\\n`` line ends)."""
    header, rows = results_csv_rows(results)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


# --------------------------------------------------------------------------- markdown
def _md_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], align: Sequence[str] | None = None
) -> str:
    align = align or ["---"] + ["---:"] * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _main_header(columns: Sequence[Metric]) -> list[str]:
    budget = [h for _, h, _ in BUDGET_COLUMNS if h is not None]
    return ["strategy", "target", *(m.column.header for m in columns), *budget, "units", "front"]


def _budget_cells(budget_of: Callable[[str], float | None]) -> list[str]:
    return [_fmt_count(budget_of(k), digits) for k, h, digits in BUDGET_COLUMNS if h is not None]


def _baseline_line(results: Results, target: str, columns: Sequence[Metric]) -> list[str]:
    ci = results.baseline.ci.acc if results.baseline.ci is not None else {}
    mark = IMAGES_MARK if results.baseline.ci_scope == "images" else ""
    cell = _BaselineCell(results.baselines, ci, results.source, target, mark)
    cells = [m.baseline(cell) if m.baseline is not None else "–" for m in columns]
    budget = ["–" for _, h, _ in BUDGET_COLUMNS if h is not None]
    return ["baseline", target, *cells, *budget, str(len(results.baselines)), ""]


def _summary_line(results: Results, entry: SummaryEntry, columns: Sequence[Metric]) -> list[str]:
    source = results.source
    members = results.members(entry.strategy, entry.target)
    mark = IMAGES_MARK if entry.ci_scope == "images" else ""
    cells = []
    for m in columns:
        value = _summary_value(m, entry, members, source)
        scale, digits = m.column.scale, m.column.digits
        if not m.spread:
            cells.append(_fmt_ci(value, None, scale, digits))
            continue
        spread = [as_float(m.value(r, source)) for r in members]
        ci = m.interval(entry, source) if m.interval is not None else None
        cells.append(_fmt_ci(value, ci, scale, digits, spread, mark))
    return [
        entry.strategy, entry.target, *cells, *_budget_cells(entry.budget.get), str(entry.n_units),
        FRONT_MARK if entry.pareto else "",
    ]  # fmt: skip


def _per_unit_table(results: Results, columns: Sequence[Metric]) -> list[str]:
    source = results.source
    shown = [m for m in columns if m.per_unit]
    lines = []
    for row in results.rows:
        cells = []
        for m in shown:
            ci = m.interval(row, source) if m.interval is not None else None
            cells.append(_fmt_ci(m.value(row, source), ci, m.column.scale, m.column.digits))
        lines.append(
            [
                row.strategy,
                row.target,
                _unit_label(row.seed, row.fold),
                *cells,
                *_budget_cells(row.budget.get),
            ]
        )
    budget = [h for _, h, _ in BUDGET_COLUMNS if h is not None]
    header = ["strategy", "target", "unit", *(m.column.header for m in shown), *budget]
    return [
        "## Per seed and fold",
        "",
        "Each row is one unit: its intervals cover the test images only (no seed-to-seed noise).",
        "",
        _md_table(header, lines, ["---"] * 3 + ["---:"] * (len(header) - 3)),
        "",
    ]


def _sequence_title(s: SequenceResult) -> str:
    return f"{s.strategy} ({_unit_label(s.seed, s.fold)})"


_SEQ_METRICS = ("average_accuracy", "bwt", "forgetting", "max_forgetting")


def _sequence_section(results: Results, sequences: Sequence[SequenceResult]) -> list[str]:
    out = ["## Sequential streams", ""]
    summary = []
    for strategy in dict.fromkeys(s.strategy for s in sequences):
        members = [s for s in sequences if s.strategy == strategy]
        summary.append(
            [strategy, str(len(members))]
            + [_fmt([as_float(getattr(s, k)) for s in members]) for k in _SEQ_METRICS]
        )
    header = ["strategy", "units", "avg acc (%)", "BWT (pts)", "forgetting (pts)", "max forgetting (pts)"]
    out += [_md_table(header, summary), ""]
    for s in sequences:
        order = list(s.order or results.dataset_names())
        matrix = np.asarray([[as_float(v) for v in r] for r in s.matrix], dtype=float)
        matrix = matrix.reshape(-1, len(order))
        out += [f"### {_sequence_title(s)}: accuracy matrix R (%)", ""]
        mrows = []
        for i, r in enumerate(matrix):
            label = (
                f"baseline (trained on {order[0]})"
                if i == 0
                else f"after {order[i] if i < len(order) else i}"
            )
            mrows.append([label] + [_fmt([v]) for v in r])
        out += [_md_table(["after step"] + order, mrows), ""]
        out += [
            f"avg acc {_fmt([as_float(s.average_accuracy)])} % · "
            f"BWT (GEM/Avalanche) {_fmt([as_float(s.bwt)])} pts · "
            f"forgetting (Avalanche) {_fmt([as_float(s.forgetting)])} pts · "
            f"max forgetting (Chaudhry et al.) {_fmt([as_float(s.max_forgetting)])} pts",
            "",
        ]
    return out + [SEQ_LEGEND, ""]


def markdown_report(results: Results | Mapping[str, JSON]) -> str:
    """The Markdown text of ``results.md``: the main table, per-unit and sequential tables, a legend.

    Main table (from ``summary``; computed when missing): one row per (target, strategy), the baseline
    first for each target; the :func:`metrics` (source and target accuracy, MI, source drop and target
    gain as ``value [low, high]``, target and source macro-F1), the budget (steps, target passes,
    source samples), the number of units and the Pareto mark. With several units per row, a per-unit
    table follows.

    Example:
        >>> text = markdown_report({"scenario": "x", "mode": "pairwise", "source": "s",
        ...     "datasets": ["s", "t"],
        ...     "baseline": {"acc": {"s": 0.8, "t": 0.3}, "macro_f1": {"s": 0.7, "t": 0.2}},
        ...     "rows": [{"strategy": "ft-fc", "target": "t", "seed": 0, "acc": {"s": 0.6, "t": 0.9},
        ...               "macro_f1": {"s": 0.5, "t": 0.9}, "memory_integrity": 0.75, "source_drop": 0.2,
        ...               "target_gain": 0.6, "budget": {"steps": 120, "target_passes": 5.0}}]})
        >>> "| ft-fc | t | 60.0 | 90.0 | 0.750 | 20.0 | 60.0 | 90.0 | 50.0 | 120 | 5.00 | – | 1 | ★ |" in text
        True
    """
    results = as_results(results).with_intervals()
    if results.has_sweep():
        return _sweep_report(results)
    source, mode = results.source, results.mode
    out = [f"# Results: {results.scenario}", ""]
    info = f"Mode: **{mode}** · source: **{source}** · datasets: {', '.join(results.dataset_names())}"
    rows = results.rows
    seeds = sorted({r.seed for r in rows if r.seed is not None})  # type: ignore[type-var]
    folds = sorted({r.fold for r in rows if r.fold is not None})
    if seeds:
        info += f" · seeds: {', '.join(str(s) for s in seeds)}"
    if folds:
        info += f" · folds: {', '.join(str(f) for f in folds)}"
    if results.intervals is not None:
        info += f" · intervals: {results.intervals.level:.0%} bootstrap, {results.intervals.n_boot} draws"
    out += [info, ""]

    columns = metrics(_row_type(results))
    summary = results.summary_in_order()
    table: list[list[str]] = []
    for target in results.targets_in_order():
        entries = [e for e in summary if e.target == target]
        if not any(e.strategy == "baseline" for e in entries):
            table.append(_baseline_line(results, target, columns))
        table += [_summary_line(results, e, columns) for e in entries]
    if not rows:
        table.append(_baseline_line(results, "–", columns))
    if mode in ("sequential", "class-incremental"):
        out += ["Rows: the model after the step that trained on *target*; source = the first dataset.", ""]
    header = _main_header(columns)
    align = ["---", "---"] + ["---:"] * (len(header) - 3) + [":---:"]
    out += [_md_table(header, table, align), "", LEGEND, ""]
    out += class_sections(results.to_json())
    if any(e.n_units > 1 for e in summary):
        out += _per_unit_table(results, columns)
    if results.sequences:
        out += _sequence_section(results, results.sequences)
    return "\n".join(out)


def _sweep_report(results: Results) -> str:
    """``results.md`` of a sweep: one section per variant (its own table, read like a run without a
    sweep: intervals, Pareto front and units within the variant)."""
    from fer_avalanche.config import variant_label

    variants = results.variants()
    keys = list(dict.fromkeys(k for v in variants for k in v))
    out = [
        f"# Results: {results.scenario}",
        "",
        f"A sweep of {len(variants)} variants over {', '.join(f'`{k}`' for k in keys)}; one section per "
        "variant (intervals, front and comparisons within it; `fer-avalanche report RUN --compare A B "
        "--variant V [--variant-b W]` compares across two).",
        "",
    ]
    for i, variant in enumerate(variants):
        body = markdown_report(results.for_variant(variant)).splitlines()
        out += [f"## Variant {i}: {variant_label(dict(variant))}", ""]
        out += ["#" + line if line.startswith("#") else line for line in body[1:]]
    return "\n".join(out)


def format_comparison(comparison: Mapping[str, Any]) -> str:
    """The paired comparison of :func:`fer_avalanche.stats.compare` as a Markdown table with a legend.

    Each difference shows its interval and, when the comparison has them, its Holm-adjusted p-value
    (over every comparison printed; ``*`` where it is below ``1 - level``, else where the interval
    excludes 0); the comparison's ``warnings`` (fewer than 3 units) are printed above the table.

    Example:
        >>> text = format_comparison({"a": "x", "b": "y", "level": 0.95, "targets": [{"target": "t",
        ...     "n_units": 1, "target_acc": {"a": 0.9, "b": 0.8, "diff": 0.1, "ci": [0.05, 0.15]},
        ...     "source_acc": {"a": 0.5, "b": 0.6, "diff": -0.1, "ci": None},
        ...     "memory_integrity": {"a": 0.8, "b": 0.9, "diff": -0.1, "ci": [-0.2, 0.01]}}]})
        >>> "| t | 1 | 90.0 / 80.0 | +10.0 [+5.0, +15.0] * | 50.0 / 60.0 | -10.0 |" in text
        True
    """
    a, b = comparison["a"], comparison["b"]
    level = float(comparison.get("level", 0.95))

    def diff(entry: Mapping[str, Any], scale: float, digits: int) -> str:
        d, ci = as_float(entry.get("diff")), entry.get("ci")
        if not math.isfinite(d):
            return "–"
        text = f"{d * scale:+.{digits}f}"
        p = entry.get("p_holm")
        if ci:
            lo, hi = as_float(ci[0]), as_float(ci[1])
            text += f" [{lo * scale:+.{digits}f}, {hi * scale:+.{digits}f}]"
            if p is None:
                text += " *" if lo > 0 or hi < 0 else ""
        if p is not None:
            text += f" p={as_float(p):.3f}" + (" *" if as_float(p) < 1.0 - level else "")
        return text

    def pair(entry: Mapping[str, Any], scale: float, digits: int) -> str:
        return " / ".join(
            "–" if entry.get(k) is None else f"{as_float(entry[k]) * scale:.{digits}f}" for k in "ab"
        )

    lines = []
    for t in comparison.get("targets", []):
        lines.append(
            [t["target"], str(t.get("n_units", "–"))]
            + [f(t[m], s, dg) for m, s, dg in (("target_acc", 100, 1), ("source_acc", 100, 1),
                                                ("memory_integrity", 1, 3)) for f in (pair, diff)]
        )  # fmt: skip
    header = [
        "target", "units", f"target acc {a} / {b} (%)", "Δ target acc (pts)", f"source acc {a} / {b} (%)",
        "Δ source acc (pts)", f"MI {a} / {b}", "Δ MI",
    ]  # fmt: skip
    warnings = [f"> **warning**: {w}" for w in comparison.get("warnings") or []]
    if comparison.get("adjustment") == "holm":
        n = comparison.get("n_comparisons", "–")
        star = (
            f"- p: two-sided p-value of no difference, **Holm-adjusted over the {n} comparisons printed** "
            f"(every target and metric; family-wise {1 - level:.0%}); `*`: adjusted p < {1 - level:.2f}. "
            "The intervals themselves are not adjusted. No interval: the run has no per-sample predictions."
        )
    else:
        star = "- `*`: the interval excludes 0. No interval: the run has no per-sample predictions."
    return "\n".join(
        [
            f"## Paired comparison: {a} - {b}",
            "",
            *(warnings + [""] if warnings else []),
            _md_table(header, lines, ["---", "---:"] + ["---:"] * 6),
            "",
            f"- Δ = {a} - {b}, mean over the units (seed, fold) both were run on, with its {level:.0%} "
            "interval: with several units a t-interval over the units of the per-unit paired differences "
            "(the same test images for both strategies; the seeds' variance included), with one unit a "
            "paired percentile bootstrap over the test images only.",
            star,
        ]
    )
