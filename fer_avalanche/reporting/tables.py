"""Tables of a run: ``results.md`` (:func:`markdown_report`), ``results.csv`` (:func:`results_csv_rows`)
and the paired comparison (:func:`format_comparison`)."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from fer_avalanche.class_report import class_sections
from fer_avalanche.results import Results, as_results
from fer_avalanche.stats import ROW_METRICS, as_float

__all__ = [
    "LEGEND",
    "SEQ_LEGEND",
    "FRONT_MARK",
    "IMAGES_MARK",
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
    value: Any,
    ci: Sequence[float] | None,
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
    if ci is None or len(ci) != 2 or not all(math.isfinite(as_float(c)) for c in ci):
        finite = [x for x in spread if math.isfinite(x)]
        return _fmt(finite, scale, digits) if len(finite) > 1 else f"{v * scale:.{digits}f}"
    lo, hi = as_float(ci[0]) * scale, as_float(ci[1]) * scale
    return f"{v * scale:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]{mark}"


def _fmt_count(value: Any, digits: int = 0) -> str:
    v = as_float(value)
    return "–" if not math.isfinite(v) else f"{v:,.{digits}f}"


def _safe_name(*parts: Any) -> str:
    return "__".join(re.sub(r"[^A-Za-z0-9._-]+", "_", str(p)) for p in parts)


def _datasets(results: Mapping[str, Any]) -> list[str]:
    return list(results.get("datasets") or results.get("baseline", {}).get("acc", {}).keys())


def _targets_in_order(results: Mapping[str, Any]) -> list[str]:
    order = [d for d in _datasets(results) if d != results.get("source")]
    for row in results.get("rows", []):
        if row["target"] not in order:
            order.append(row["target"])
    return order


def _strategies_in_order(results: Mapping[str, Any]) -> list[str]:
    return list(dict.fromkeys(str(row["strategy"]) for row in results.get("rows", [])))


def _row_values(row: Mapping[str, Any], source: str) -> dict[str, float]:
    acc, f1 = row.get("acc", {}), row.get("macro_f1", {}) or {}
    target = row["target"]
    return {
        "source_acc": as_float(acc.get(source)),
        "target_acc": as_float(acc.get(target)),
        "memory_integrity": as_float(row.get("memory_integrity")),
        "source_drop": as_float(row.get("source_drop")),
        "target_gain": as_float(row.get("target_gain")),
        "target_macro_f1": as_float(f1.get(target)),
        "source_macro_f1": as_float(f1.get(source)),
    }


def _row_ci(row: Mapping[str, Any], source: str) -> dict[str, Any]:
    """A row's (or summary entry's) intervals by the names of :func:`_row_values`."""
    ci = row.get("ci") or {}
    acc = ci.get("acc") or {}
    return {
        "source_acc": acc.get(source),
        "target_acc": acc.get(row["target"]),
        **{name: ci.get(name) for name in ROW_METRICS},
    }


def _unit_label(entry: Mapping[str, Any]) -> str:
    seed, fold = entry.get("seed"), entry.get("fold")
    text = f"seed {seed if seed is not None else '–'}"
    return text + (f", fold {fold}" if fold is not None else "")


def _summary_in_order(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Summary entries: targets in dataset order, strategies in the order rows first show them."""
    strategies = _strategies_in_order(results)
    summary = list(results.get("summary") or [])
    rank = {t: k for k, t in enumerate(_targets_in_order(results))}
    return sorted(
        summary,
        key=lambda e: (rank.get(e["target"], len(rank)), strategies.index(e["strategy"])
                       if e["strategy"] in strategies else len(strategies)),
    )  # fmt: skip


def _members(results: Mapping[str, Any], entry: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        r
        for r in results.get("rows", [])
        if r["strategy"] == entry["strategy"] and r["target"] == entry["target"]
    ]


def _baseline_entries(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One entry per baseline unit: ``{"seed", "fold", "acc", "macro_f1", "ci"}``.

    From ``baselines`` when the run has it, else from the older ``baseline["per_seed"]`` (macro-F1 then
    known for the first seed only).
    """
    if results.get("baselines"):
        return [
            {
                "seed": b.get("seed"),
                "fold": b.get("fold"),
                "acc": b.get("acc") or {},
                "macro_f1": b.get("macro_f1") or {},
                "ci": b.get("ci") or {},
            }
            for b in results["baselines"]
        ]
    base = results.get("baseline", {}) or {}
    per_seed = base.get("per_seed") or {}
    seeds = results.get("seeds") or []
    if not per_seed:
        return [
            {
                "seed": seeds[0] if seeds else None,
                "fold": None,
                "acc": base.get("acc", {}),
                "macro_f1": base.get("macro_f1", {}),
                "ci": base.get("ci") or {},
            }
        ]
    first = str(seeds[0]) if seeds else next(iter(per_seed))
    return [
        {
            "seed": int(s) if str(s).lstrip("-").isdigit() else s,
            "fold": None,
            "acc": entry.get("acc", {}),
            "macro_f1": base.get("macro_f1", {}) if str(s) == first else {},
            "ci": {},
        }
        for s, entry in per_seed.items()
    ]


# --------------------------------------------------------------------------- tables
BUDGET_KEYS = ("steps", "target_passes", "source_samples", "epochs")
CI_COLUMNS = ("source_acc", "target_acc", "memory_integrity", "target_gain", "source_drop")


def results_csv_rows(results: Results | Mapping[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """Header and rows of ``results.csv``: baseline row(s) first (one per unit), then one per results row.

    Columns: ``strategy, target, seed, fold, [step,] source_acc, target_acc, memory_integrity,
    source_drop, target_gain, target_macro_f1, source_macro_f1, train_time_s, budget_steps,
    budget_target_passes, budget_source_samples, budget_epochs, selected_epoch``, the interval bounds
    ``<metric>_lo, <metric>_hi`` of source/target acc, MI, target gain and source drop, then
    ``acc_<dataset>..., acc_<dataset>_lo/_hi..., macro_f1_<dataset>...`` (fractions rounded to 6
    decimals; empty = not applicable or unknown). Baseline rows have strategy ``baseline`` and no target.

    Example:
        >>> header, _ = results_csv_rows({"source": "s", "datasets": ["s"], "baseline": {"acc": {"s": 1.0}},
        ...                               "rows": []})
        >>> header[:6]
        ['strategy', 'target', 'seed', 'fold', 'source_acc', 'target_acc']
    """
    results = results.to_json() if isinstance(results, Results) else results
    source = results.get("source", "")
    datasets = _datasets(results)
    rows = results.get("rows", [])
    has_step = any("step" in r for r in rows)
    header = ["strategy", "target", "seed", "fold"] + (["step"] if has_step else [])
    header += [
        "source_acc", "target_acc", "memory_integrity", "source_drop", "target_gain",
        "target_macro_f1", "source_macro_f1", "train_time_s",
    ]  # fmt: skip
    header += [f"budget_{k}" for k in BUDGET_KEYS] + ["selected_epoch"]
    header += [f"{m}_{end}" for m in CI_COLUMNS for end in ("lo", "hi")]
    header += [f"acc_{d}" for d in datasets]
    header += [f"acc_{d}_{end}" for d in datasets for end in ("lo", "hi")]
    header += [f"macro_f1_{d}" for d in datasets]
    swept = any(r.get("variant") for r in rows)
    if swept:  # a sweep: which variant each row is (baseline rows: empty, shared by the variants)
        header.insert(4 + has_step, "variant")

    def clean(v: Any) -> Any:
        if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
            return int(v)  # counts (budget steps, samples) stay integers
        f = as_float(v) if not isinstance(v, str) else v
        if isinstance(f, float):
            return round(f, 6) if math.isfinite(f) else ""
        return f

    def bounds(name: str, ci: Any) -> dict[str, Any]:
        lo, hi = ci if isinstance(ci, (list, tuple)) and len(ci) == 2 else (None, None)
        return {f"{name}_lo": clean(lo), f"{name}_hi": clean(hi)}

    out: list[dict[str, Any]] = []
    for entry in _baseline_entries(results):
        acc_ci = (entry.get("ci") or {}).get("acc") or {}
        line: dict[str, Any] = {
            "strategy": "baseline",
            "target": "",
            "seed": "" if entry["seed"] is None else entry["seed"],
            "fold": "" if entry["fold"] is None else entry["fold"],
            "source_acc": clean(entry["acc"].get(source)),
            "memory_integrity": 1.0,
            "source_drop": 0.0,
            "source_macro_f1": clean(entry["macro_f1"].get(source)),
            **bounds("source_acc", acc_ci.get(source)),
        }
        line.update({f"acc_{d}": clean(entry["acc"].get(d)) for d in datasets})
        for d in datasets:
            line.update(bounds(f"acc_{d}", acc_ci.get(d)))
        line.update({f"macro_f1_{d}": clean(entry["macro_f1"].get(d)) for d in datasets})
        out.append(line)
    for row in rows:
        fold = row.get("fold")
        line = {
            "strategy": row["strategy"],
            "target": row["target"],
            "seed": row.get("seed", ""),
            "fold": "" if fold is None else fold,
        }
        if has_step:
            line["step"] = row.get("step", "")
        if swept:
            from fer_avalanche.config import variant_label

            line["variant"] = variant_label(row.get("variant") or {})
        line.update({k: clean(v) for k, v in _row_values(row, source).items()})
        line["train_time_s"] = clean(row.get("train_time_s"))
        budget = row.get("budget") or {}
        line.update({f"budget_{k}": clean(budget.get(k)) for k in BUDGET_KEYS})
        line["selected_epoch"] = "" if row.get("selected_epoch") is None else row["selected_epoch"]
        for name, ci in _row_ci(row, source).items():
            line.update(bounds(name, ci))
        acc_ci = (row.get("ci") or {}).get("acc") or {}
        line.update({f"acc_{d}": clean(row.get("acc", {}).get(d)) for d in datasets})
        for d in datasets:
            line.update(bounds(f"acc_{d}", acc_ci.get(d)))
        line.update({f"macro_f1_{d}": clean((row.get("macro_f1") or {}).get(d)) for d in datasets})
        out.append(line)
    return header, out


def csv_text(results: Results) -> str:
    """The text of ``results.csv`` (:func:`results_csv_rows`, one line per row, ``\\n`` line ends)."""
    header, rows = results_csv_rows(results)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _md_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], align: Sequence[str] | None = None
) -> str:
    align = align or ["---"] + ["---:"] * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


MAIN_HEADER = [
    "strategy", "target", "source acc (%)", "target acc (%)", "MI", "source drop (pts)",
    "target gain (pts)", "target macro-F1 (%)", "source macro-F1 (%)", "steps", "target passes",
    "source samples", "units", "front",
]  # fmt: skip


def _baseline_line(results: Mapping[str, Any], target: str) -> list[str]:
    source = results.get("source", "")
    base = _baseline_entries(results)
    ci = ((results.get("baseline") or {}).get("ci") or {}).get("acc") or {}
    src = [as_float(b["acc"].get(source)) for b in base]
    tgt = [as_float(b["acc"].get(target)) for b in base]
    f1 = [b["macro_f1"] for b in base if b["macro_f1"]]
    mark = IMAGES_MARK if (results.get("baseline") or {}).get("ci_scope") == "images" else ""
    return [
        "baseline", target, _fmt_ci(_mean_std(src)[0], ci.get(source), spread=src, mark=mark),
        _fmt_ci(_mean_std(tgt)[0], ci.get(target), spread=tgt, mark=mark) if target != "–" else "–",
        "1.000", "0.0", "0.0" if target != "–" else "–",
        _fmt_ci(_mean_std([as_float(f.get(target)) for f in f1])[0], None) if target != "–" else "–",
        _fmt_ci(_mean_std([as_float(f.get(source)) for f in f1])[0], None), "–", "–", "–", str(len(base)), "",
    ]  # fmt: skip


def _summary_line(results: Mapping[str, Any], entry: Mapping[str, Any]) -> list[str]:
    source = results.get("source", "")
    ci = _row_ci(entry, source)
    spread = {k: [v[k] for v in (_row_values(r, source) for r in _members(results, entry))] for k in ci}
    f1 = entry.get("macro_f1") or {}
    budget = entry.get("budget") or {}

    mark = IMAGES_MARK if entry.get("ci_scope") == "images" else ""

    def cell(name: str, scale: float = 100.0, digits: int = 1) -> str:
        return _fmt_ci(entry.get(name), ci[name], scale, digits, spread[name], mark)

    return [
        entry["strategy"], entry["target"], cell("source_acc"), cell("target_acc"),
        cell("memory_integrity", 1.0, 3), cell("source_drop"), cell("target_gain"),
        _fmt_ci(f1.get(entry["target"]), None), _fmt_ci(f1.get(source), None),
        _fmt_count(budget.get("steps")), _fmt_count(budget.get("target_passes"), 2),
        _fmt_count(budget.get("source_samples")), str(entry.get("n_units", "–")),
        FRONT_MARK if entry.get("pareto") else "",
    ]  # fmt: skip


def _per_unit_table(results: Mapping[str, Any]) -> list[str]:
    source = results.get("source", "")
    lines = []
    for row in results.get("rows", []):
        ci, v = _row_ci(row, source), _row_values(row, source)
        budget = row.get("budget") or {}
        lines.append(
            [
                row["strategy"], row["target"], _unit_label(row),
                _fmt_ci(v["source_acc"], ci["source_acc"]), _fmt_ci(v["target_acc"], ci["target_acc"]),
                _fmt_ci(v["memory_integrity"], ci["memory_integrity"], 1.0, 3),
                _fmt_ci(v["target_gain"], ci["target_gain"]), _fmt_count(budget.get("steps")),
                _fmt_count(budget.get("target_passes"), 2), _fmt_count(budget.get("source_samples")),
            ]
        )  # fmt: skip
    header = [
        "strategy", "target", "unit", "source acc (%)", "target acc (%)", "MI", "target gain (pts)",
        "steps", "target passes", "source samples",
    ]  # fmt: skip
    return [
        "## Per seed and fold",
        "",
        "Each row is one unit: its intervals cover the test images only (no seed-to-seed noise).",
        "",
        _md_table(header, lines, ["---"] * 3 + ["---:"] * 7),
        "",
    ]


def _sequence_title(s: Mapping[str, Any]) -> str:
    return f"{s['strategy']} ({_unit_label(s)})"


def _sequence_section(results: Mapping[str, Any], sequences: Sequence[Mapping[str, Any]]) -> list[str]:
    out = ["## Sequential streams", ""]
    summary = []
    for strategy in dict.fromkeys(s["strategy"] for s in sequences):
        members = [s for s in sequences if s["strategy"] == strategy]
        summary.append(
            [strategy, str(len(members))]
            + [
                _fmt([as_float(s.get(k)) for s in members])
                for k in ("average_accuracy", "bwt", "forgetting", "max_forgetting")
            ]
        )
    header = ["strategy", "units", "avg acc (%)", "BWT (pts)", "forgetting (pts)", "max forgetting (pts)"]
    out += [_md_table(header, summary), ""]
    for s in sequences:
        order = list(s.get("order") or _datasets(results))
        matrix = np.asarray([[as_float(v) for v in r] for r in s.get("matrix") or []], dtype=float)
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
            f"avg acc {_fmt([as_float(s.get('average_accuracy'))])} % · "
            f"BWT (GEM/Avalanche) {_fmt([as_float(s.get('bwt'))])} pts · "
            f"forgetting (Avalanche) {_fmt([as_float(s.get('forgetting'))])} pts · "
            f"max forgetting (Chaudhry et al.) {_fmt([as_float(s.get('max_forgetting'))])} pts",
            "",
        ]
    return out + [SEQ_LEGEND, ""]


def markdown_report(results: Results | Mapping[str, Any]) -> str:
    """The Markdown text of ``results.md``: the main table, per-unit and sequential tables, a legend.

    Main table (from ``summary``; computed when missing): one row per (target, strategy), the baseline
    first for each target; source and target accuracy, MI, source drop and target gain as
    ``value [low, high]``, target and source macro-F1, the budget (steps, target passes, source
    samples), the number of units and the Pareto mark. With several units per row, a per-unit table
    follows.

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
    results = as_results(results).with_intervals().to_json()
    from fer_avalanche import sweeps

    if sweeps.has_sweep(results):
        return _sweep_report(results)
    source = results.get("source", "")
    mode = results.get("mode", "pairwise")
    out = [f"# Results: {results.get('scenario', '')}", ""]
    info = f"Mode: **{mode}** · source: **{source}** · datasets: {', '.join(_datasets(results))}"
    rows = results.get("rows", [])
    seeds = sorted({r.get("seed") for r in rows if r.get("seed") is not None})
    folds = sorted({r.get("fold") for r in rows if r.get("fold") is not None})
    if seeds:
        info += f" · seeds: {', '.join(str(s) for s in seeds)}"
    if folds:
        info += f" · folds: {', '.join(str(f) for f in folds)}"
    intervals = results.get("intervals") or {}
    if intervals:
        info += f" · intervals: {intervals.get('level', 0.95):.0%} bootstrap, {intervals.get('n_boot')} draws"
    out += [info, ""]

    summary = _summary_in_order(results)
    table: list[list[str]] = []
    for target in _targets_in_order(results):
        entries = [e for e in summary if e["target"] == target]
        if not any(e["strategy"] == "baseline" for e in entries):
            table.append(_baseline_line(results, target))
        table += [_summary_line(results, e) for e in entries]
    if not rows:
        table.append(_baseline_line(results, "–"))
    if mode in ("sequential", "class-incremental"):
        out += ["Rows: the model after the step that trained on *target*; source = the first dataset.", ""]
    align = ["---", "---"] + ["---:"] * (len(MAIN_HEADER) - 3) + [":---:"]
    out += [_md_table(MAIN_HEADER, table, align), "", LEGEND, ""]
    out += class_sections(results)
    if any(int(e.get("n_units") or 0) > 1 for e in summary):
        out += _per_unit_table(results)
    sequences = results.get("sequences") or []
    if sequences:
        out += _sequence_section(results, sequences)
    return "\n".join(out)


def _sweep_report(results: Mapping[str, Any]) -> str:
    """``results.md`` of a sweep: one section per variant (its own table, read like a run without a
    sweep: intervals, Pareto front and units within the variant)."""
    from fer_avalanche import sweeps
    from fer_avalanche.config import variant_label

    variants = sweeps.variants_of(results)
    keys = list(dict.fromkeys(k for v in variants for k in v))
    out = [
        f"# Results: {results.get('scenario', '')}",
        "",
        f"A sweep of {len(variants)} variants over {', '.join(f'`{k}`' for k in keys)}; one section per "
        "variant (intervals, front and comparisons within it; `fer-avalanche report RUN --compare A B "
        "--variant V [--variant-b W]` compares across two).",
        "",
    ]
    for i, variant in enumerate(variants):
        body = markdown_report(sweeps.variant_view(results, variant)).splitlines()
        out += [f"## Variant {i}: {variant_label(variant)}", ""]
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
