"""Plots of a run: the trade-off plot, forgetting curves, accuracy matrices and confusion matrices.

:func:`render_plots` draws every plot of a :class:`~fer_avalanche.results.Results` (once per variant of a
sweep); the ``plot_*`` functions draw one each from the ``results.json`` dict."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fer_avalanche.figures import new_figure as _figure
from fer_avalanche.figures import plot_confusion, save_figure
from fer_avalanche.results import Results, as_results
from fer_avalanche.stats import ROW_METRICS, as_float

__all__ = [
    "render_plots",
    "plot_tradeoff",
    "tradeoff_figure",
    "alpha_curve_points",
    "plot_curves",
    "plot_accuracy_matrix",
]

IMAGES_MARK = "ⁱ"


def render_plots(results: Results, out_dir: Path, *, confusion_plots: bool = True) -> list[Path]:
    """Draw every plot of ``results`` into ``out_dir``: ``tradeoff.png``, ``accuracy_matrix.png``,
    ``curves_<target>.png`` and (``confusion_plots``) ``confusion/*.png``; a sweep gets each plot once
    per variant, the variant's slug in its name (``tradeoff__<slug>.png``). Returns the paths written.

    Example:
        >>> render_plots(read_results("runs/demo"), Path("runs/demo"))  # doctest: +SKIP
    """
    from fer_avalanche.config import variant_slug

    results = results.with_intervals()
    out_dir = Path(out_dir)
    views = [(results, "")]
    if results.has_sweep():  # a sweep: every plot once per variant, the variant in its name
        views = [(results.for_variant(v), f"__{variant_slug(v)}") for v in results.variants()]
    written: list[Path] = []
    for view, suffix in views:
        obj = view.to_json()
        written.append(plot_tradeoff(obj, out_dir / f"tradeoff{suffix}.png"))
        written.append(plot_accuracy_matrix(obj, out_dir / f"accuracy_matrix{suffix}.png"))
        written += plot_curves(obj, out_dir, suffix=suffix)
    if confusion_plots:
        written += _plot_confusions(views[0][0].to_json(), out_dir / "confusion")
    return written


def _dict(results: Results | Mapping[str, Any]) -> Mapping[str, Any]:
    return results.to_json() if isinstance(results, Results) else results


def _mean_std(values: Sequence[float]) -> tuple[float, float, int]:
    vals = [v for v in values if math.isfinite(v)]
    if not vals:
        return math.nan, math.nan, 0
    mean = float(np.mean(vals))
    std = float(np.std(vals, ddof=1)) if len(vals) > 1 else math.nan
    return mean, std, len(vals)


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


def _sequence_title(s: Mapping[str, Any]) -> str:
    return f"{s['strategy']} ({_unit_label(s)})"


# --------------------------------------------------------------------------- plots
def _err(value: float, ci: Any, scale: float = 1.0) -> Any:
    """Asymmetric error bar ``[[below], [above]]`` of an interval around ``value`` (``None``: no bar)."""
    pair = isinstance(ci, (list, tuple)) and len(ci) == 2
    if not pair or not all(math.isfinite(as_float(c)) for c in ci):
        return None
    lo, hi = as_float(ci[0]) * scale, as_float(ci[1]) * scale
    return [[max(value - lo, 0.0)], [max(hi - value, 0.0)]]


def plot_tradeoff(results: Results | Mapping[str, Any], path: str | Path) -> Path:
    """Save :func:`tradeoff_figure` as a PNG at ``path``.

    Example:
        >>> plot_tradeoff(results, "runs/demo/tradeoff.png")  # doctest: +SKIP
    """
    return save_figure(tradeoff_figure(results), path)


def tradeoff_figure(results: Results | Mapping[str, Any]) -> Any:
    """Target accuracy vs memory integrity: one point per (strategy, target), mean over units.

    Error bars on both axes are the 95% intervals of the summary; colour and marker per target; each
    point labelled with its strategy (``ⁱ`` and dotted bars where one unit backs it: the interval then
    covers the test images only, and a note under the plot says so); the Pareto front of each target
    drawn as a line through its points, which are ringed; the baseline (MI = 1, zero-shot target
    accuracy, with its interval) as a hollow marker; a dashed MI = 1 line. Rows with an
    ``alpha_curve`` (``wise-ft``) get a dotted line through ``theta(a)`` on the test sets, from the
    baseline (``a = 0``) to the base strategy (``a = 1``). Returns the matplotlib ``Figure``.

    Example:
        >>> fig = tradeoff_figure(results)  # doctest: +SKIP
    """
    results = as_results(results).with_intervals().to_json()
    source = results.get("source", "")
    fig = _figure(6.6, 4.8)
    ax = fig.add_subplot()
    markers = "osD^vP*Xh<>p"
    base = _baseline_entries(results)
    base_ci = ((results.get("baseline") or {}).get("ci") or {}).get("acc") or {}
    summary = _summary_in_order(results)
    any_images = False
    for k, target in enumerate(_targets_in_order(results)):
        color, marker = f"C{k % 10}", markers[k % len(markers)]
        b_mean, _, b_n = _mean_std([as_float(b["acc"].get(target)) for b in base])
        if b_n:
            ax.errorbar(
                [1.0], [b_mean * 100], yerr=_err(b_mean * 100, base_ci.get(target), 100), color=color,
                marker=marker, markerfacecolor="none", markersize=7, linestyle="none", capsize=2,
            )  # fmt: skip
            ax.annotate(
                "baseline", (1.0, b_mean * 100), fontsize=6, xytext=(4, -8), textcoords="offset points"
            )
        entries = [e for e in summary if e["target"] == target]
        first, front = True, []
        for e in entries:
            x, y = as_float(e.get("memory_integrity")), as_float(e.get("target_acc"))
            if not (math.isfinite(x) and math.isfinite(y)):
                continue
            ci = _row_ci(e, source)
            images_only = e.get("ci_scope") == "images"
            bars = ax.errorbar(
                x, y * 100, xerr=_err(x, ci["memory_integrity"]), yerr=_err(y * 100, ci["target_acc"], 100),
                color=color, marker=marker, markersize=6, linestyle="none", capsize=2, elinewidth=0.8,
                label=f"target {target}" if first else None,
            )  # fmt: skip
            if images_only:  # dotted bars: test images only
                for line in bars[2]:
                    line.set_linestyle(":")
                any_images = True
            first = False
            label = e["strategy"] + (IMAGES_MARK if images_only else "")
            ax.annotate(label, (x, y * 100), fontsize=7, xytext=(4, 3), textcoords="offset points")
            if e.get("pareto"):
                front.append((x, y * 100))
            alpha = alpha_curve_points(results, e["strategy"], target)
            if alpha:  # wise-ft: theta(a) from the baseline (a = 0) to the base strategy (a = 1), on test
                ax.plot(*zip(*alpha, strict=True), color=color, linestyle=":", marker=".", linewidth=1)
        if front:
            fx, fy = zip(*sorted(front), strict=True)
            ax.plot(fx, fy, color=color, linewidth=1, alpha=0.6)
            ax.scatter(fx, fy, s=150, facecolors="none", edgecolors=color, linewidths=1.2)
    ax.scatter([], [], s=150, facecolors="none", edgecolors="grey", label="Pareto front (ringed, joined)")
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1, label="MI = 1 (nothing forgotten)")
    ax.set_xlabel(f"memory integrity  (acc_after[{source}] / acc_baseline[{source}])")
    ax.set_ylabel("target accuracy (%)")
    ax.set_title(
        f"{results.get('scenario', '')}: learning the target vs keeping the source (95% intervals)",
        fontsize=9,
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    if any_images:
        fig.text(
            0.01, 0.005, f"{IMAGES_MARK} dotted bars: one unit (seed, fold): the interval covers the test "
            "images only, not the noise between seeds", fontsize=6, ha="left", va="bottom",
        )  # fmt: skip
    return fig


def alpha_curve_points(results: Mapping[str, Any], strategy: str, target: str) -> list[tuple[float, float]]:
    """``[(MI, target accuracy %)]`` per ``a`` of the rows' ``alpha_curve`` (wise-ft), on the test sets,
    mean over units; MI relative to ``a = 0`` (the baseline). Empty without a curve."""
    source = results.get("source", "")
    by_alpha: dict[float, list[tuple[float, float]]] = {}
    for row in results.get("rows", []):
        curve = (
            row.get("alpha_curve")
            if row.get("strategy") == strategy and row.get("target") == target
            else None
        )
        base = next((p["test"].get(source) for p in curve or [] if p.get("alpha") == 0.0), None)
        for p in curve if base else []:
            test = p.get("test") or {}
            if source in test and target in test:
                by_alpha.setdefault(float(p["alpha"]), []).append((test[source] / base, test[target] * 100))
    return [tuple(np.mean(v, axis=0).tolist()) for _, v in sorted(by_alpha.items())]  # type: ignore[misc]


def _curve_means(rows: Sequence[Mapping[str, Any]], dataset: str) -> tuple[list[float], list[float]]:
    """Optimizer steps and the mean over rows (units) of the validation accuracy on ``dataset`` at
    each step (points without a ``step``, from older runs, are left out)."""
    by_step: dict[float, list[float]] = {}
    for row in rows:
        for point in row.get("curve") or []:
            v = as_float((point.get("acc") or {}).get(dataset))
            if math.isfinite(v) and point.get("step") is not None:
                by_step.setdefault(float(point["step"]), []).append(v)
    steps = sorted(by_step)
    return steps, [float(np.mean(by_step[e])) * 100 for e in steps]


def _selected_step(row: Mapping[str, Any]) -> float | None:
    """The optimizer step of the epoch ``select = "best_val"`` kept (from the row's curve)."""
    selected = row.get("selected_epoch")
    for point in row.get("curve") or []:
        if selected is not None and point.get("epoch") == selected and point.get("step") is not None:
            return float(point["step"])
    return None


def plot_curves(results: Results | Mapping[str, Any], out_dir: str | Path, suffix: str = "") -> list[Path]:
    """Forgetting curves: ``curves_<target><suffix>.png`` per target whose rows have a ``curve``.

    Validation accuracy (%) on the source (dashed) and on the target (solid) against the optimizer
    steps of the adaptation (under one step budget, strategies whose epochs differ in length are
    compared at equal steps), one colour per strategy, mean over units at each step; a star marks the
    point that ``select = "best_val"`` kept (``selected_epoch``, first unit). Nothing is written for
    targets without curves.

    Example:
        >>> plot_curves(results, "runs/demo")  # doctest: +SKIP
        [PosixPath('runs/demo/curves_lab-a.png')]
    """
    results = _dict(results)
    source = results.get("source", "")
    rows = results.get("rows", [])
    written: list[Path] = []
    for target in _targets_in_order(results):
        members = [r for r in rows if r["target"] == target and r.get("curve")]
        if not members:
            continue
        fig = _figure(6.4, 4.2)
        ax = fig.add_subplot()
        for k, strategy in enumerate(dict.fromkeys(r["strategy"] for r in members)):
            mine = [r for r in members if r["strategy"] == strategy]
            color = f"C{k % 10}"
            for dataset, style in ((target, "-"), (source, "--")):
                steps, acc = _curve_means(mine, dataset)
                if steps:
                    ax.plot(steps, acc, style, color=color, marker=".", markersize=4,
                            label=f"{strategy} on {dataset}")  # fmt: skip
            selected = _selected_step(mine[0])
            if selected is not None:
                steps, acc = _curve_means(mine[:1], target)
                if selected in steps:
                    ax.scatter([selected], [acc[steps.index(selected)]], marker="*", s=80, color=color)
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("optimizer steps of the adaptation")
        ax.set_ylabel("validation accuracy (%)")
        ax.set_title(
            f"{results.get('scenario', '')}: adapting to {target} (solid) vs keeping {source} (dashed)",
            fontsize=9,
        )
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, loc="best", ncol=2)
        written.append(save_figure(fig, Path(out_dir) / f"curves_{_safe_name(target)}{suffix}.png"))
    return written


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


def _plot_sequences(results: Mapping[str, Any], sequences: Sequence[Mapping[str, Any]], path: Path) -> Path:
    datasets = _datasets(results)
    n = len(sequences)
    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    size = max(len(datasets), 2)
    fig = _figure(ncols * (1.0 + 0.75 * size) + 0.8, nrows * (0.9 + 0.45 * size) + 0.3)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    im = None
    for k, seq in enumerate(sequences):
        order = list(seq.get("order") or datasets)
        m = np.asarray([[as_float(v) for v in r] for r in seq.get("matrix", [])], dtype=float).reshape(
            -1, len(order)
        )
        labels = ["baseline"] + [f"after {order[i] if i < len(order) else i}" for i in range(1, m.shape[0])]
        im = _heatmap(axes[k // ncols][k % ncols], m, labels, order, _sequence_title(seq))
    for k in range(n, nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    if im is not None:
        fig.colorbar(im, ax=axes, shrink=0.8, label="accuracy (%)")
    return save_figure(fig, path)


def plot_accuracy_matrix(results: Results | Mapping[str, Any], path: str | Path) -> Path:
    """Accuracy heatmap(s) in %.

    Pairwise mode (or no sequences): rows = baseline + every (strategy -> target), columns = datasets
    (mean over units). Sequential and class-incremental modes: the accuracy matrix R of every sequence
    (row 0 = baseline, row i = after step i), one panel per sequence (strategy, seed, fold).

    Example:
        >>> plot_accuracy_matrix(results, "runs/demo/accuracy_matrix.png")  # doctest: +SKIP
    """
    results = _dict(results)
    datasets = _datasets(results)
    sequences = results.get("sequences") or []
    if results.get("mode") in ("sequential", "class-incremental") and sequences:
        return _plot_sequences(results, sequences, Path(path))
    source = results.get("source", "")
    base = _baseline_entries(results)
    labels = [f"baseline ({source})"]
    rows = [[_mean_std([as_float(b["acc"].get(d)) for b in base])[0] for d in datasets]]
    for target in _targets_in_order(results):
        for strategy in _strategies_in_order(results):
            members = [
                r for r in results.get("rows", []) if r["target"] == target and r["strategy"] == strategy
            ]
            if members:
                labels.append(f"{strategy} -> {target}")
                rows.append(
                    [_mean_std([as_float(r.get("acc", {}).get(d)) for r in members])[0] for d in datasets]
                )
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
        acc = as_float(row.get("acc", {}).get(d))
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
        acc = as_float((results.get("baseline") or {}).get("acc", {}).get(d))
        fig = plot_confusion(
            cm, names or [str(i) for i in range(len(cm))], title=f"baseline on {d} ({acc:.1%})"
        )
        written.append(save_figure(fig, out_dir / f"{_safe_name('baseline', d)}.png"))
    rows = results.get("rows", [])
    first_unit = (rows[0].get("seed"), rows[0].get("fold")) if rows else None
    for row in rows:
        if (row.get("seed"), row.get("fold")) != first_unit:
            continue
        parts = [row["strategy"], row["target"]]
        parts += [f"s{row['seed']}"] if row.get("seed") is not None else []
        parts += [f"f{row['fold']}"] if row.get("fold") is not None else []
        p = _plot_row_confusions(results, row, out_dir / f"{_safe_name(*parts)}.png")
        if p is not None:
            written.append(p)
    return written
