"""Tables and plots of a run: ``results.json/.csv/.md``, the trade-off plot, accuracy matrices and
confusion matrices, all written atomically (:mod:`fer_avalanche.io`).

Input is the results dict the runner produces (:func:`fer_avalanche.protocol.run_scenario`)::

    {"scenario", "mode": "pairwise"|"sequential", "source", "datasets", "label_names",
     "baseline": {"source", "acc": {D: float}, "macro_f1", "per_class_acc", "confusion", ["per_seed"]},
     "rows": [{"strategy", "target", "seed", "acc": {D: float}, "macro_f1", "per_class_acc", "confusion",
               "memory_integrity", "source_drop", "target_gain", "train_time_s", ["step"]}],
     "sequences": [{"strategy", "seed", "order", "matrix", "average_accuracy", "bwt", "forgetting",
                    "max_forgetting"}],
     ...other keys are passed through to results.json}

Accuracies are fractions; tables show percentages (1 decimal) and memory integrity with 3 decimals.
With several seeds, tables and plots aggregate ``mean ± std`` (sample std) per (strategy, target).

Files written into the run directory by :func:`write_results` (and re-rendered from ``results.json``
by :func:`render_report`, the CLI's ``fer-avalanche report RUN_DIR``): ``results.json``,
``results.csv``, ``results.md``, ``tradeoff.png``, ``accuracy_matrix.png`` and
``confusion/*.png`` (baseline per dataset; source and target per row of the first seed).

Plots use matplotlib ``Figure`` objects directly (Agg canvas, no pyplot, no global state).

Example:
    >>> from fer_avalanche.reporting import render_report
    >>> for path in render_report("runs/demo"):  # doctest: +SKIP
    ...     print(path)
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fer_avalanche.errors import FERAvalancheError
from fer_avalanche.io import atomic_path, atomic_write_text, write_json

__all__ = [
    "ReportError",
    "write_results",
    "render_report",
    "load_results",
    "results_csv_rows",
    "markdown_report",
    "plot_tradeoff",
    "plot_accuracy_matrix",
    "plot_confusion",
    "confusion_image",
    "save_figure",
    "LEGEND",
]

#: Definitions printed under the tables of ``results.md``.
LEGEND = """\
- **source acc** / **target acc**: top-1 accuracy (%) on the source / target test set after adaptation.
- **MI** (memory integrity) = acc_after[source] / acc_baseline[source]; 1.000 = nothing forgotten.
- **source drop** = acc_baseline[source] - acc_after[source], in percentage points (positive = forgotten).
- **target gain** = acc_after[target] - acc_baseline[target], in points; the baseline's target accuracy
  is its zero-shot cross-dataset accuracy.
- **macro-F1** (%): unweighted mean of per-class F1 over the classes present in the test set's true
  labels (sklearn `f1_score(average="macro", labels=present)`).
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


class ReportError(FERAvalancheError):
    """A run directory's ``results.json`` is missing, unreadable or not a results dict."""


# --------------------------------------------------------------------------- small helpers
def _num(v: Any) -> float:
    """A float, NaN for None / non-numbers."""
    if v is None or isinstance(v, bool):
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _jsonable(obj: Any) -> Any:
    """Numpy values -> Python, non-finite floats -> None (strict JSON)."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _mean_std(values: Sequence[float]) -> tuple[float, float, int]:
    vals = [v for v in values if math.isfinite(v)]
    if not vals:
        return math.nan, math.nan, 0
    mean = float(np.mean(vals))
    std = float(np.std(vals, ddof=1)) if len(vals) > 1 else math.nan
    return mean, std, len(vals)


def _fmt(values: Sequence[float], scale: float = 100.0, digits: int = 1) -> str:
    mean, std, n = _mean_std(values)
    if n == 0:
        return "–"
    text = f"{mean * scale:.{digits}f}"
    if n > 1:
        text += f" ± {std * scale:.{digits}f}"
    return text


def _safe_name(*parts: Any) -> str:
    return "__".join(re.sub(r"[^A-Za-z0-9._-]+", "_", str(p)) for p in parts)


def _figure(width: float, height: float, dpi: int = 100, layout: str | None = "constrained") -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Any, path: str | Path) -> Path:
    """Save a matplotlib figure as PNG, atomically.

    Example:
        >>> save_figure(plot_confusion([[1, 0], [0, 1]], ["a", "b"]), "/tmp/cm.png")  # doctest: +SKIP
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path


def _datasets(results: Mapping[str, Any]) -> list[str]:
    return list(results.get("datasets") or results.get("baseline", {}).get("acc", {}).keys())


def _targets_in_order(results: Mapping[str, Any]) -> list[str]:
    order = [d for d in _datasets(results) if d != results.get("source")]
    for row in results.get("rows", []):
        if row["target"] not in order:
            order.append(row["target"])
    return order


def _strategies_in_order(results: Mapping[str, Any]) -> list[str]:
    order: list[str] = []
    for row in results.get("rows", []):
        if row["strategy"] not in order:
            order.append(row["strategy"])
    return order


def _row_values(row: Mapping[str, Any], source: str) -> dict[str, float]:
    acc, f1 = row.get("acc", {}), row.get("macro_f1", {}) or {}
    target = row["target"]
    return {
        "source_acc": _num(acc.get(source)),
        "target_acc": _num(acc.get(target)),
        "memory_integrity": _num(row.get("memory_integrity")),
        "source_drop": _num(row.get("source_drop")),
        "target_gain": _num(row.get("target_gain")),
        "target_macro_f1": _num(f1.get(target)),
        "source_macro_f1": _num(f1.get(source)),
    }


def _groups(results: Mapping[str, Any]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(target, strategy, rows) in table order: targets in dataset order, strategies as first seen."""
    rows = results.get("rows", [])
    out = []
    for target in _targets_in_order(results):
        for strategy in _strategies_in_order(results):
            members = [r for r in rows if r["target"] == target and r["strategy"] == strategy]
            if members:
                out.append((target, strategy, members))
    return out


def _baseline_entries(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One entry per baseline seed: ``{"seed", "acc", "macro_f1"}`` (macro-F1 only where known)."""
    base = results.get("baseline", {}) or {}
    per_seed = base.get("per_seed") or {}
    seeds = results.get("seeds") or []
    if not per_seed:
        return [
            {
                "seed": seeds[0] if seeds else None,
                "acc": base.get("acc", {}),
                "macro_f1": base.get("macro_f1", {}),
            }
        ]
    first = str(seeds[0]) if seeds else next(iter(per_seed))
    return [
        {
            "seed": int(s) if str(s).lstrip("-").isdigit() else s,
            "acc": entry.get("acc", {}),
            "macro_f1": base.get("macro_f1", {}) if str(s) == first else {},
        }
        for s, entry in per_seed.items()
    ]


# --------------------------------------------------------------------------- tables
def results_csv_rows(results: Mapping[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """Header and rows of ``results.csv``: baseline row(s) first, then one row per results row.

    Columns: ``strategy, target, seed, [step,] source_acc, target_acc, memory_integrity, source_drop,
    target_gain, target_macro_f1, source_macro_f1, train_time_s, acc_<dataset>..., macro_f1_<dataset>...``
    (fractions rounded to 6 decimals; empty = not applicable). Baseline rows have strategy ``baseline``
    and no target.

    Example:
        >>> header, _ = results_csv_rows({"source": "s", "datasets": ["s"], "baseline": {"acc": {"s": 1.0}},
        ...                               "rows": []})
        >>> header[:5]
        ['strategy', 'target', 'seed', 'source_acc', 'target_acc']
    """
    source = results.get("source", "")
    datasets = _datasets(results)
    rows = results.get("rows", [])
    has_step = any("step" in r for r in rows)
    header = ["strategy", "target", "seed"] + (["step"] if has_step else [])
    header += [
        "source_acc", "target_acc", "memory_integrity", "source_drop", "target_gain",
        "target_macro_f1", "source_macro_f1", "train_time_s",
    ]  # fmt: skip
    header += [f"acc_{d}" for d in datasets] + [f"macro_f1_{d}" for d in datasets]

    def clean(v: Any) -> Any:
        f = _num(v) if not isinstance(v, str) else v
        if isinstance(f, float):
            return round(f, 6) if math.isfinite(f) else ""
        return f

    out: list[dict[str, Any]] = []
    for entry in _baseline_entries(results):
        line: dict[str, Any] = {
            "strategy": "baseline",
            "target": "",
            "seed": "" if entry["seed"] is None else entry["seed"],
            "source_acc": clean(entry["acc"].get(source)),
            "memory_integrity": 1.0,
            "source_drop": 0.0,
            "source_macro_f1": clean(entry["macro_f1"].get(source)),
        }
        line.update({f"acc_{d}": clean(entry["acc"].get(d)) for d in datasets})
        line.update({f"macro_f1_{d}": clean(entry["macro_f1"].get(d)) for d in datasets})
        out.append(line)
    for row in rows:
        line = {"strategy": row["strategy"], "target": row["target"], "seed": row.get("seed", "")}
        if has_step:
            line["step"] = row.get("step", "")
        line.update({k: clean(v) for k, v in _row_values(row, source).items()})
        line["train_time_s"] = clean(row.get("train_time_s"))
        line.update({f"acc_{d}": clean(row.get("acc", {}).get(d)) for d in datasets})
        line.update({f"macro_f1_{d}": clean((row.get("macro_f1") or {}).get(d)) for d in datasets})
        out.append(line)
    return header, out


def _md_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], align: Sequence[str] | None = None
) -> str:
    align = align or ["---"] + ["---:"] * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def markdown_report(results: Mapping[str, Any]) -> str:
    """The Markdown text of ``results.md``: the main table, sequential tables, and a legend.

    Main table: one row per (target, strategy), the baseline first for each target; columns source
    accuracy, target accuracy, memory integrity, source drop, target gain, target and source macro-F1.

    Example:
        >>> text = markdown_report({"scenario": "x", "mode": "pairwise", "source": "s",
        ...     "datasets": ["s", "t"],
        ...     "baseline": {"acc": {"s": 0.8, "t": 0.3}, "macro_f1": {"s": 0.7, "t": 0.2}},
        ...     "rows": [{"strategy": "ft-fc", "target": "t", "seed": 0, "acc": {"s": 0.6, "t": 0.9},
        ...               "macro_f1": {"s": 0.5, "t": 0.9}, "memory_integrity": 0.75, "source_drop": 0.2,
        ...               "target_gain": 0.6}]})
        >>> "| ft-fc | t | 60.0 | 90.0 | 0.750 | 20.0 | 60.0 | 90.0 | 50.0 |" in text
        True
    """
    source = results.get("source", "")
    mode = results.get("mode", "pairwise")
    seeds = sorted({r.get("seed") for r in results.get("rows", []) if r.get("seed") is not None})
    out = [f"# Results: {results.get('scenario', '')}", ""]
    info = f"Mode: **{mode}** · source: **{source}** · datasets: {', '.join(_datasets(results))}"
    if seeds:
        info += f" · seeds: {', '.join(str(s) for s in seeds)}"
        if len(seeds) > 1:
            info += " (mean ± sample std over seeds)"
    out += [info, ""]

    header = [
        "strategy", "target", "source acc (%)", "target acc (%)", "MI", "source drop (pts)",
        "target gain (pts)", "target macro-F1 (%)", "source macro-F1 (%)",
    ]  # fmt: skip
    table: list[list[str]] = []
    base = _baseline_entries(results)
    base_src = [_num(b["acc"].get(source)) for b in base]
    base_src_f1 = [_num(b["macro_f1"].get(source)) for b in base if b["macro_f1"]]
    groups = _groups(results)
    for target in _targets_in_order(results):
        # a run with its own "baseline" strategy row for this target needs no synthesized copy
        if not any(tgt == target and strategy == "baseline" for tgt, strategy, _ in groups):
            table.append(
                [
                    "baseline", target, _fmt(base_src), _fmt([_num(b["acc"].get(target)) for b in base]),
                    "1.000", "0.0", "0.0",
                    _fmt([_num(b["macro_f1"].get(target)) for b in base if b["macro_f1"]]), _fmt(base_src_f1),
                ]
            )  # fmt: skip
        for tgt, strategy, members in groups:
            if tgt != target:
                continue
            vals = [_row_values(r, source) for r in members]
            col = {k: [v[k] for v in vals] for k in vals[0]}
            table.append(
                [
                    strategy, target, _fmt(col["source_acc"]), _fmt(col["target_acc"]),
                    _fmt(col["memory_integrity"], scale=1.0, digits=3), _fmt(col["source_drop"]),
                    _fmt(col["target_gain"]), _fmt(col["target_macro_f1"]), _fmt(col["source_macro_f1"]),
                ]
            )  # fmt: skip
    if not results.get("rows"):
        table.append(["baseline", "–", _fmt(base_src), "–", "1.000", "0.0", "–", "–", _fmt(base_src_f1)])
    if mode == "sequential":
        out += ["Rows: the model after the step that trained on *target*; source = the first dataset.", ""]
    out += [_md_table(header, table, ["---", "---"] + ["---:"] * 7), "", LEGEND, ""]

    sequences = results.get("sequences") or []
    if sequences:
        out += ["## Sequential streams", ""]
        strategies: list[str] = []
        for s in sequences:
            if s["strategy"] not in strategies:
                strategies.append(s["strategy"])
        summary = []
        for strategy in strategies:
            members = [s for s in sequences if s["strategy"] == strategy]
            summary.append(
                [strategy, str(len(members))]
                + [_fmt([_num(s.get(k)) for s in members]) for k in ("average_accuracy", "bwt", "forgetting")]
                + [_fmt([_num(s.get("max_forgetting")) for s in members])]
            )
        out += [
            _md_table(
                ["strategy", "seeds", "avg acc (%)", "BWT (pts)", "forgetting (pts)", "max forgetting (pts)"],
                summary,
            ),
            "",
        ]
        for s in sequences:
            order = list(s.get("order") or _datasets(results))
            matrix = np.asarray(s.get("matrix") or [], dtype=float).reshape(-1, len(order))
            out += [f"### {s['strategy']} (seed {s.get('seed', '–')}): accuracy matrix R (%)", ""]
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
                f"avg acc {_fmt([_num(s.get('average_accuracy'))])} % · "
                f"BWT (GEM/Avalanche) {_fmt([_num(s.get('bwt'))])} pts · "
                f"forgetting (Avalanche) {_fmt([_num(s.get('forgetting'))])} pts · "
                f"max forgetting (Chaudhry et al.) {_fmt([_num(s.get('max_forgetting'))])} pts",
                "",
            ]
        out += [SEQ_LEGEND, ""]
    return "\n".join(out)


# --------------------------------------------------------------------------- plots
def plot_confusion(
    confusion: np.ndarray | Sequence[Sequence[int]],
    label_names: Sequence[str],
    *,
    title: str = "",
    normalize: bool = True,
    ax: Any = None,
    path: str | Path | None = None,
) -> Any:
    """Confusion-matrix heatmap (rows = true class, columns = predicted), counts annotated.

    Colours are row-normalised (recall) when ``normalize``. Draws into ``ax`` if given, else into a new
    small ``Figure``; saves it to ``path`` (atomically) if given. Returns the ``Figure``.

    Example:
        >>> fig = plot_confusion([[5, 1], [2, 4]], ["happy", "sad"], title="demo")
        >>> fig.axes[0].get_title()
        'demo'
    """
    cm = np.asarray(confusion, dtype=np.int64)
    if ax is None:
        fig = _figure(3.4, 3.1, layout=None)  # fixed margins: constrained layout costs ~2x the time
        fig.subplots_adjust(left=0.24, bottom=0.25, right=0.97, top=0.9)
        ax = fig.add_subplot()
    fig = ax.figure
    rows = cm.sum(axis=1, keepdims=True)
    shown = np.divide(cm, np.maximum(rows, 1)) if normalize else cm
    ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else max(int(cm.max()), 1))
    c = cm.shape[0]
    names = [str(n)[:7] for n in label_names][:c] + [str(i) for i in range(len(label_names), c)]
    ax.set_xticks(range(c), names, rotation=60, ha="right", fontsize=6)
    ax.set_yticks(range(c), names, fontsize=6)
    ax.set_xlabel("predicted", fontsize=7)
    ax.set_ylabel("true", fontsize=7)
    threshold = 0.5 * (1 if normalize else max(int(cm.max()), 1))
    if c <= 12:
        for i in range(c):
            for j in range(c):
                if cm[i, j]:
                    color = "white" if shown[i, j] > threshold else "black"
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=5, color=color)
    if title:
        ax.set_title(title, fontsize=7)
    if path is not None:
        save_figure(fig, path)
    return fig


def confusion_image(
    confusion: np.ndarray | Sequence[Sequence[int]], label_names: Sequence[str], title: str = ""
) -> Any:
    """The :func:`plot_confusion` figure as an RGB ``PIL.Image`` (what Avalanche's TensorBoard logger logs).

    Example:
        >>> confusion_image([[1, 0], [0, 1]], ["a", "b"]).mode
        'RGB'
    """
    from PIL import Image

    fig = plot_confusion(confusion, label_names, title=title)
    fig.set_dpi(80)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    buf.seek(0)
    with Image.open(buf) as img:
        return img.convert("RGB")


def plot_tradeoff(results: Mapping[str, Any], path: str | Path) -> Path:
    """Target accuracy vs memory integrity: one point per (strategy, target), mean over seeds.

    Colour and marker per target, each point labelled with its strategy, error bars (std) with several
    seeds, the baseline (MI = 1, zero-shot target accuracy) as a hollow marker, and a dashed MI = 1 line.

    Example:
        >>> plot_tradeoff(results, "runs/demo/tradeoff.png")  # doctest: +SKIP
    """
    source = results.get("source", "")
    fig = _figure(6.4, 4.6)
    ax = fig.add_subplot()
    markers = "osD^vP*Xh<>p"
    colors = [f"C{i}" for i in range(10)]
    base = _baseline_entries(results)
    groups = _groups(results)
    for k, target in enumerate(_targets_in_order(results)):
        color, marker = colors[k % len(colors)], markers[k % len(markers)]
        b_mean, _, b_n = _mean_std([_num(b["acc"].get(target)) for b in base])
        if b_n:
            ax.scatter([1.0], [b_mean * 100], facecolors="none", edgecolors=color, marker=marker, s=50)
            ax.annotate(
                "baseline", (1.0, b_mean * 100), fontsize=6, xytext=(4, -8), textcoords="offset points"
            )
        first = True
        for tgt, strategy, members in groups:
            if tgt != target:
                continue
            vals = [_row_values(r, source) for r in members]
            x, xs, nx = _mean_std([v["memory_integrity"] for v in vals])
            y, ys, ny = _mean_std([v["target_acc"] for v in vals])
            if not (nx and ny):
                continue
            ax.errorbar(
                x, y * 100,
                xerr=xs if nx > 1 else None, yerr=ys * 100 if ny > 1 else None,
                color=color, marker=marker, markersize=6, linestyle="none", capsize=2,
                label=f"target {target}" if first else None,
            )  # fmt: skip
            first = False
            ax.annotate(strategy, (x, y * 100), fontsize=7, xytext=(4, 3), textcoords="offset points")
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1, label="MI = 1 (nothing forgotten)")
    ax.set_xlabel(f"memory integrity  (acc_after[{source}] / acc_baseline[{source}])")
    ax.set_ylabel("target accuracy (%)")
    ax.set_title(f"{results.get('scenario', '')}: learning the target vs keeping the source", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    return save_figure(fig, path)


def _heatmap(
    ax: Any, matrix: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str], title: str
) -> Any:
    im = ax.imshow(matrix * 100, cmap="viridis", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(len(col_labels)), col_labels, rotation=30, ha="right", fontsize=7)
    ax.set_yticks(range(len(row_labels)), row_labels, fontsize=7)
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            v = matrix[i, j]
            if math.isfinite(v):
                ax.text(j, i, f"{v * 100:.1f}", ha="center", va="center", fontsize=6,
                        color="white" if v < 0.6 else "black")  # fmt: skip
    ax.set_title(title, fontsize=8)
    return im


def plot_accuracy_matrix(results: Mapping[str, Any], path: str | Path) -> Path:
    """Accuracy heatmap(s) in %.

    Pairwise mode (or no sequences): rows = baseline + every (strategy -> target), columns = datasets
    (mean over seeds). Sequential mode: the accuracy matrix R of every sequence (row 0 = baseline,
    row i = after step i), one panel per sequence.

    Example:
        >>> plot_accuracy_matrix(results, "runs/demo/accuracy_matrix.png")  # doctest: +SKIP
    """
    datasets = _datasets(results)
    sequences = results.get("sequences") or []
    if results.get("mode") == "sequential" and sequences:
        n = len(sequences)
        ncols = min(3, n)
        nrows = math.ceil(n / ncols)
        size = max(len(datasets), 2)
        fig = _figure(ncols * (1.0 + 0.75 * size) + 0.8, nrows * (0.9 + 0.45 * size) + 0.3)
        axes = fig.subplots(nrows, ncols, squeeze=False)
        im = None
        for k, seq in enumerate(sequences):
            order = list(seq.get("order") or datasets)
            m = np.asarray([[_num(v) for v in r] for r in seq.get("matrix", [])], dtype=float).reshape(
                -1, len(order)
            )
            labels = ["baseline"] + [
                f"after {order[i] if i < len(order) else i}" for i in range(1, m.shape[0])
            ]
            ax = axes[k // ncols][k % ncols]
            im = _heatmap(ax, m, labels, order, f"{seq['strategy']} (seed {seq.get('seed', '–')})")
        for k in range(n, nrows * ncols):
            axes[k // ncols][k % ncols].set_visible(False)
        if im is not None:
            fig.colorbar(im, ax=axes, shrink=0.8, label="accuracy (%)")
        return save_figure(fig, path)

    source = results.get("source", "")
    base = _baseline_entries(results)
    labels = [f"baseline ({source})"]
    rows = [[_mean_std([_num(b["acc"].get(d)) for b in base])[0] for d in datasets]]
    for target, strategy, members in _groups(results):
        labels.append(f"{strategy} -> {target}")
        rows.append([_mean_std([_num(r.get("acc", {}).get(d)) for r in members])[0] for d in datasets])
    m = np.asarray(rows, dtype=float).reshape(len(rows), len(datasets))
    fig = _figure(2.6 + 0.9 * max(len(datasets), 2), 1.2 + 0.3 * len(rows))
    ax = fig.add_subplot()
    im = _heatmap(ax, m, labels, datasets, f"{results.get('scenario', '')}: test accuracy (%) per dataset")
    fig.colorbar(im, ax=ax, shrink=0.8, label="accuracy (%)")
    return save_figure(fig, path)


def _plot_row_confusions(results: Mapping[str, Any], row: Mapping[str, Any], path: Path) -> Path | None:
    source, target = results.get("source", ""), row["target"]
    confusion = row.get("confusion") or {}
    names = list(results.get("label_names") or [])
    panels = [(d, confusion[d]) for d in dict.fromkeys([source, target]) if d in confusion]
    if not panels:
        return None
    fig = _figure(3.3 * len(panels), 3.2, layout=None)
    fig.subplots_adjust(left=0.24 / len(panels), bottom=0.25, right=0.98, top=0.9, wspace=0.45)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (d, cm) in zip(axes, panels, strict=True):
        acc = _num(row.get("acc", {}).get(d))
        c = len(cm)
        plot_confusion(
            cm, names or [str(i) for i in range(c)], ax=ax, title=f"{row['strategy']} on {d} ({acc:.1%})"
        )
    return save_figure(fig, path)


def _plot_confusions(results: Mapping[str, Any], out_dir: Path) -> list[Path]:
    written: list[Path] = []
    names = list(results.get("label_names") or [])
    base_cm = (results.get("baseline") or {}).get("confusion") or {}
    for d, cm in base_cm.items():
        acc = _num((results.get("baseline") or {}).get("acc", {}).get(d))
        fig = plot_confusion(
            cm, names or [str(i) for i in range(len(cm))], title=f"baseline on {d} ({acc:.1%})"
        )
        written.append(save_figure(fig, out_dir / f"{_safe_name('baseline', d)}.png"))
    rows = results.get("rows", [])
    seeds = [r.get("seed") for r in rows]
    first_seed = seeds[0] if seeds else None
    for row in rows:
        if row.get("seed") != first_seed:
            continue
        parts = [row["strategy"], row["target"]] + (
            [f"s{row['seed']}"] if row.get("seed") is not None else []
        )
        p = _plot_row_confusions(results, row, out_dir / f"{_safe_name(*parts)}.png")
        if p is not None:
            written.append(p)
    return written


# --------------------------------------------------------------------------- files
def _validate(results: Any, origin: str) -> None:
    if not isinstance(results, Mapping):
        raise ReportError(
            f"{origin}: expected a JSON object with the run's results, got {type(results).__name__}"
        )
    for key in ("source", "baseline", "rows"):
        if key not in results:
            raise ReportError(f"{origin}: missing key {key!r} (is this a fer-avalanche results file?)")
    if not isinstance(results["rows"], list):
        raise ReportError(f"{origin}: 'rows' must be a list")
    for i, row in enumerate(results["rows"]):
        if not isinstance(row, Mapping) or not {"strategy", "target", "acc"} <= set(row):
            raise ReportError(f"{origin}: rows[{i}] must have 'strategy', 'target' and 'acc'")
    if not isinstance(results["baseline"], Mapping) or "acc" not in results["baseline"]:
        raise ReportError(f"{origin}: 'baseline' must have an 'acc' mapping")


def write_results(
    run_dir: str | Path,
    results: Mapping[str, Any],
    *,
    write_json_file: bool = True,
    confusion_plots: bool = True,
) -> list[Path]:
    """Write ``results.json`` (the whole dict), ``results.csv``, ``results.md`` and every plot.

    Non-finite floats become ``null`` in ``results.json`` (strict JSON). ``confusion_plots=False``
    skips ``confusion/*.png`` (about 0.1 s each). Returns the paths written.

    Raises:
        ReportError: ``results`` lacks the keys the tables need.

    Example:
        >>> paths = write_results("runs/demo", run.results)  # doctest: +SKIP
    """
    run_dir = Path(run_dir)
    _validate(results, "results")
    clean = _jsonable(results)
    written: list[Path] = []
    if write_json_file:
        write_json(run_dir / "results.json", clean)
        written.append(run_dir / "results.json")
    header, rows = results_csv_rows(clean)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(run_dir / "results.csv", buf.getvalue())
    atomic_write_text(run_dir / "results.md", markdown_report(clean))
    written += [run_dir / "results.csv", run_dir / "results.md"]
    written.append(plot_tradeoff(clean, run_dir / "tradeoff.png"))
    written.append(plot_accuracy_matrix(clean, run_dir / "accuracy_matrix.png"))
    if confusion_plots:
        written += _plot_confusions(clean, run_dir / "confusion")
    return written


def load_results(run_dir: str | Path) -> dict[str, Any]:
    """Read and check ``RUN_DIR/results.json`` (or a path to the file itself).

    Raises:
        ReportError: the file is missing, not valid JSON, or not a results dict (the message names it).

    Example:
        >>> load_results("runs/demo")["mode"]  # doctest: +SKIP
        'pairwise'
    """
    path = Path(run_dir)
    if path.is_dir() or path.suffix != ".json":
        path = path / "results.json"
    if not path.is_file():
        raise ReportError(f"{path}: not found; expected the results.json of a finished fer-avalanche run")
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ReportError(f"{path}: not UTF-8 text ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ReportError(
            f"{path}: corrupt JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except OSError as exc:
        raise ReportError(f"{path}: cannot read ({exc.strerror})") from None
    _validate(results, str(path))
    return results


def render_report(run_dir: str | Path, *, confusion_plots: bool = True) -> list[Path]:
    """Re-render ``results.csv``, ``results.md`` and every plot from ``RUN_DIR/results.json``.

    Returns the paths written (``results.json`` itself is left untouched).

    Raises:
        ReportError: ``results.json`` is missing or corrupt (the message names the file).

    Example:
        >>> render_report("runs/demo")  # doctest: +SKIP
        [PosixPath('runs/demo/results.csv'), PosixPath('runs/demo/results.md'), ...]
    """
    path = Path(run_dir)
    results = load_results(path)
    out_dir = path if path.is_dir() else path.parent
    return write_results(out_dir, results, write_json_file=False, confusion_plots=confusion_plots)
