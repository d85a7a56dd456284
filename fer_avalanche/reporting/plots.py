"""Plots of a run, drawn from the typed :class:`~fer_avalanche.results.Results` (attributes, no dict keys).

:func:`render_plots` writes every plot of a run into its directory (once per variant of a sweep, the
variant's slug in the file name: ``tradeoff__<slug>.png``):

- ``tradeoff.png`` (:func:`tradeoff_figure`): target accuracy against memory integrity, one panel per
  target on shared axes, one colour and marker per strategy (the same in every panel and in the curves)
  named once in the legend, 95% intervals as error bars, the Pareto front ringed and joined, the
  baseline hollow, wise-ft's ``a`` curve dotted;
- ``curves_<target>.png`` (:func:`curves_figure`): validation accuracy against optimizer steps;
- ``forgetting_classes.png`` (:func:`forgetting_classes_figure`): the change of each source class's
  recall (strategy x class, one panel per target), the classes a target lacks marked;
- ``accuracy_matrix.png`` (:func:`plot_accuracy_matrix`) and ``confusion/*.png``.

Every function takes :class:`~fer_avalanche.results.Results` or a ``results.json`` dict.

Example:
    >>> from fer_avalanche.results import Results
    >>> r = Results.from_json({"source": "s", "datasets": ["s", "t1", "t2"], "baseline": {"acc": {}},
    ...     "rows": [{"strategy": "ft-fc", "target": t, "acc": {"s": 0.5, t: 0.6}} for t in ("t1", "t2")]})
    >>> [ax.get_title() for ax in tradeoff_figure(r).axes]
    ['t1', 't2']
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fer_avalanche.figures import new_figure as _figure
from fer_avalanche.figures import plot_confusion, save_figure
from fer_avalanche.results import JSON, Interval, ResultRow, Results, as_results

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure
    from matplotlib.image import AxesImage

__all__ = [
    "render_plots",
    "plot_tradeoff",
    "tradeoff_figure",
    "alpha_curve_points",
    "plot_curves",
    "curves_figure",
    "plot_forgetting_classes",
    "forgetting_classes_figure",
    "class_recall_changes",
    "plot_accuracy_matrix",
    "strategy_styles",
]

#: Appended to an interval that only resamples the test images (``ci_scope: "images"``: one unit).
IMAGES_MARK = "ⁱ"
#: Marks, in ``forgetting_classes.png``, a class the target's training split lacks.
ABSENT_MARK = "✗"
#: One colour per strategy (no grey and no black: those are the baseline's and the guides').
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
    "#e377c2", "#bcbd22", "#17becf", "#393b79", "#b8860b", "#7b4173",
)  # fmt: skip
#: One filled marker per strategy, paired with :data:`PALETTE` (12 distinct pairs, then they repeat).
MARKERS = "osD^vPXhp<>d"

Style = tuple[str, str]
AnyResults = Results | Mapping[str, JSON]


# --------------------------------------------------------------------------- the entry point
def render_plots(results: AnyResults, out_dir: str | Path, *, confusion_plots: bool = True) -> list[Path]:
    """Draw every plot of ``results`` into ``out_dir``; returns the paths written.

    ``tradeoff.png``, ``accuracy_matrix.png``, ``curves_<target>.png`` (rows with a forgetting curve),
    ``forgetting_classes.png`` (rows with per-class accuracies) and, with ``confusion_plots``,
    ``confusion/*.png`` (of the first variant). A sweep gets each plot once per variant, named
    ``<name>__<variant_slug>.png``. Intervals missing from ``results`` are computed first.

    Example:
        >>> render_plots(read_results("runs/demo"), "runs/demo")  # doctest: +SKIP
        [PosixPath('runs/demo/tradeoff.png'), PosixPath('runs/demo/accuracy_matrix.png'), ...]
    """
    from fer_avalanche.config import variant_slug

    results = as_results(results).with_intervals()
    out_dir = Path(out_dir)
    views = [(results, "")]
    if results.has_sweep():  # every plot once per variant, the variant in its name
        views = [(results.for_variant(v), f"__{variant_slug(v)}") for v in results.variants()]
    written: list[Path] = []
    for view, suffix in views:
        written.append(plot_tradeoff(view, out_dir / f"tradeoff{suffix}.png"))
        written.append(plot_accuracy_matrix(view, out_dir / f"accuracy_matrix{suffix}.png"))
        written += plot_curves(view, out_dir, suffix=suffix)
        forgetting = plot_forgetting_classes(view, out_dir / f"forgetting_classes{suffix}.png")
        written += [forgetting] if forgetting is not None else []
    if confusion_plots:
        written += _plot_confusions(views[0][0], out_dir / "confusion")
    return written


# --------------------------------------------------------------------------- small helpers
def _f(value: object) -> float:
    """A float, NaN for ``None`` and for what is not a number."""
    try:
        return math.nan if value is None else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _mean(values: Sequence[Any]) -> float:
    finite = [v for v in map(_f, values) if math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.nan


def _safe_name(*parts: object) -> str:
    return "__".join(re.sub(r"[^A-Za-z0-9._-]+", "_", str(p)) for p in parts)


def _title(results: Results, what: str) -> str:
    """``<scenario>: <what>``, and the variant on a second line in a sweep's view of one variant."""
    from fer_avalanche.config import variant_label

    return f"{results.scenario}: {what}" + (f"\n{variant_label(results.variant)}" if results.variant else "")


def _strategies(results: Results) -> list[str]:
    """The adapted strategies in the order rows first show them (the baseline is drawn apart)."""
    return [s for s in results.strategies_in_order() if s != "baseline"]


def strategy_styles(strategies: Sequence[str]) -> dict[str, Style]:
    """``{strategy: (colour, marker)}``: the pairs every plot of a run uses, in ``strategies`` order.

    Example:
        >>> strategy_styles(["ft-fc", "lwf"])
        {'ft-fc': ('#1f77b4', 'o'), 'lwf': ('#ff7f0e', 's')}
    """
    return {s: (PALETTE[k % len(PALETTE)], MARKERS[k % len(MARKERS)]) for k, s in enumerate(strategies)}


def _grid(n: int) -> tuple[int, int]:
    """Rows and columns of ``n`` panels: one row up to 3, then 2 x 2, then rows of 3."""
    if n <= 3:
        return 1, max(n, 1)
    return (2, 2) if n == 4 else (math.ceil(n / 3), 3)


def _panels(fig: Figure | SubFigure, n: int, *, sharex: bool = False, sharey: bool = False) -> list[Axes]:
    """``n`` panels laid out by :func:`_grid`, sharing the first one's x and/or y axis; shared tick
    labels only on the outer panels (x: the lowest panel of each column; y: the first column)."""
    nrows, ncols = _grid(n)
    grid = fig.add_gridspec(nrows, ncols)
    axes: list[Axes] = []
    for k in range(n):
        first = axes[0] if axes else None
        axes.append(
            fig.add_subplot(grid[k // ncols, k % ncols], sharex=first if sharex else None,
                            sharey=first if sharey else None)
        )  # fmt: skip
    for k, ax in enumerate(axes):
        if sharex and k + ncols < n:
            ax.xaxis.set_tick_params(labelbottom=False)
        if sharey and k % ncols:
            ax.yaxis.set_tick_params(labelleft=False)
    return axes


def _framed(width: float, height: float, legend_width: float) -> tuple[Figure, SubFigure, SubFigure]:
    """A figure split into the plot (``width``) and a legend column (``legend_width``), in inches."""
    fig = _figure(width + legend_width, height)
    main, side = fig.subfigures(1, 2, width_ratios=[width, legend_width], wspace=0)
    return fig, main, side


def _absent(results: Results, target: str) -> list[str]:
    """The classes ``target``'s training split lacks (its rows' ``target_absent``, else the run's)."""
    out: list[str] = []
    for row in results.rows:
        if row.target == target:
            out += [c for c in row.target_absent or [] if c not in out]
    return out or list(results.absent_classes.get(target) or [])


# --------------------------------------------------------------------------- the trade-off
def plot_tradeoff(results: AnyResults, path: str | Path) -> Path:
    """Save :func:`tradeoff_figure` as a PNG at ``path``.

    Example:
        >>> plot_tradeoff(results, "runs/demo/tradeoff.png")  # doctest: +SKIP
    """
    return save_figure(tradeoff_figure(results), path)


def tradeoff_figure(results: AnyResults) -> Figure:
    """Target accuracy vs memory integrity, one panel per target on shared axes (mean over units).

    In each panel: one point per strategy, its colour and marker the same in every panel and named
    once in the legend (no text at the points); 95% intervals as error bars on both axes, dotted where
    one unit backs them (``ci_scope == "images"``: they cover the test images only, the legend's
    ``ⁱ`` note says so); the Pareto front joined and ringed; the baseline (MI = 1, its zero-shot target
    accuracy with its interval) hollow and black; a dashed MI = 1 line; wise-ft's ``a`` curve (test
    sets, from the baseline at ``a = 0`` to its base strategy at ``a = 1``) dotted in its colour. A
    target that lacks classes says so in its title. Returns the ``Figure`` (its axes: the panels).

    Example:
        >>> fig = tradeoff_figure(read_results("runs/demo"))  # doctest: +SKIP
    """
    results = as_results(results).with_intervals()
    targets = results.targets_in_order()
    styles = strategy_styles(_strategies(results))
    nrows, ncols = _grid(len(targets))
    w, h = (4.2, 3.4) if len(targets) == 1 else (3.0, 2.7 if nrows == 1 else 2.55)
    fig, main, side = _framed(ncols * w + 0.4, nrows * h + 0.7, 2.0)
    seen = {"images": False, "alpha": False}
    for ax, target in zip(_panels(main, len(targets), sharex=True, sharey=True), targets, strict=True):
        _tradeoff_panel(ax, results, target, styles, seen)
    side.legend(handles=_tradeoff_handles(styles, seen), loc="upper left", fontsize=7, frameon=False)
    source = results.source
    main.supxlabel(f"memory integrity  (acc_after[{source}] / acc_baseline[{source}])", fontsize=8)
    main.supylabel("target accuracy (%)", fontsize=8)
    fig.suptitle(
        _title(results, "learning the target vs keeping the source (means, 95% intervals)"), fontsize=9
    )
    return fig


def _baseline_point(results: Results, target: str) -> tuple[float, Interval | None, bool, bool]:
    """The baseline's target accuracy (%) on ``target``, its interval, whether that interval covers
    the test images only, and whether the baseline is on the front."""
    for e in results.summary or []:
        if e.strategy == "baseline" and e.target == target:
            ci = e.ci.acc.get(target) if e.ci else None
            return _f(e.target_acc) * 100, ci, e.ci_scope == "images", e.pareto
    base = results.baseline
    ci = base.ci.acc.get(target) if base.ci else None
    return _mean([b.acc.get(target) for b in results.baselines]) * 100, ci, base.ci_scope == "images", False


def _tradeoff_panel(ax: Axes, results: Results, target: str, styles: dict[str, Style], seen: dict) -> None:
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=0.8, zorder=1)
    y, ci, images, on_front = _baseline_point(results, target)
    bars = _Bars()
    front = [(1.0, y)] if on_front and math.isfinite(y) else []
    if math.isfinite(y):
        seen["images"] |= bars.add(1.0, y, None, _scaled(ci, 100), "black", images) and images
        ax.plot([1.0], [y], color="black", marker="o", markersize=6, markerfacecolor="white",
                linestyle="none", zorder=4, label="_baseline")  # fmt: skip
    for e in results.summary_in_order():
        x, y = _f(e.memory_integrity), _f(e.target_acc) * 100
        if e.target != target or e.strategy not in styles or not (math.isfinite(x) and math.isfinite(y)):
            continue
        color, marker = styles[e.strategy]
        xci, yci = (e.ci.memory_integrity, _scaled(e.ci.acc.get(target), 100)) if e.ci else (None, None)
        images = e.ci_scope == "images"  # dotted bars: the test images only
        seen["images"] |= bars.add(x, y, xci, yci, color, images) and images
        ax.plot(
            [x], [y], color=color, marker=marker, markersize=6, linestyle="none", zorder=3, label=e.strategy
        )
        front += [(x, y)] if e.pareto else []
        alpha = alpha_curve_points(results, e.strategy, target)
        if alpha:  # wise-ft: theta(a) from the baseline (a = 0) to the base strategy (a = 1), on test
            seen["alpha"] = True
            ax.plot(*zip(*alpha, strict=True), color=color, linestyle=":", marker=".", markersize=2.5,
                    linewidth=0.9, zorder=2, label="_alpha")  # fmt: skip
    bars.draw(ax)
    if front:
        fx, fy = zip(*sorted(front), strict=True)
        ax.plot(fx, fy, color="black", linewidth=0.8, alpha=0.5, zorder=2, label="_front")
        ax.scatter(fx, fy, s=110, facecolors="none", edgecolors="black", linewidths=0.8, zorder=5)
    absent = _absent(results, target)
    ax.set_title(target + (f"  (lacks {', '.join(absent)})" if absent else ""), fontsize=8)
    ax.grid(alpha=0.25, linewidth=0.5)
    ax.tick_params(labelsize=7)


def _scaled(ci: Interval | None, scale: float) -> Interval | None:
    return None if ci is None else Interval(_f(ci.lo) * scale, _f(ci.hi) * scale)


class _Bars:
    """The error bars of a panel, drawn as two line collections (one ``errorbar`` call per point costs
    ~10 ms): ``xbars`` and ``ybars`` hold one segment per interval, coloured like its point."""

    def __init__(self) -> None:
        self.segments: dict[str, list[list[tuple[float, float]]]] = {"x": [], "y": []}
        self.styles: dict[str, list[tuple[str, str]]] = {"x": [], "y": []}

    def add(
        self, x: float, y: float, xci: Interval | None, yci: Interval | None, color: str, dotted: bool
    ) -> bool:
        """Add the bars of the point (x, y) that have a finite interval; whether any had one."""
        style = (color, ":" if dotted else "-")
        added = False
        for axis, ci in (("x", xci), ("y", yci)):
            if ci is not None and math.isfinite(_f(ci.lo)) and math.isfinite(_f(ci.hi)):
                ends = [(ci.lo, y), (ci.hi, y)] if axis == "x" else [(x, ci.lo), (x, ci.hi)]
                self.segments[axis].append(ends)
                self.styles[axis].append(style)
                added = True
        return added

    def draw(self, ax: Axes) -> None:
        from matplotlib.collections import LineCollection

        for axis in ("x", "y"):
            if self.segments[axis]:
                colors, styles = zip(*self.styles[axis], strict=True)
                bars = LineCollection(
                    self.segments[axis], colors=list(colors), linestyles=list(styles), linewidths=0.8,
                    alpha=0.7, zorder=2, label=f"_{axis}bars",
                )  # fmt: skip
                ax.add_collection(bars, autolim=True)
        ax.autoscale_view()


def _tradeoff_handles(styles: dict[str, Style], seen: dict) -> list[Any]:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=c, marker=m, linestyle="none", markersize=6, label=s)
        for s, (c, m) in styles.items()
    ]
    handles += [
        Line2D([], [], color="black", marker="o", markerfacecolor="white", linestyle="none", markersize=6,
               label="baseline (not adapted)"),
        Line2D([], [], color="black", marker="o", markerfacecolor="none", markersize=10, alpha=0.6,
               linewidth=0.8, label="Pareto front"),
        Line2D([], [], color="grey", linestyle="--", linewidth=0.8, label="MI = 1 (nothing forgotten)"),
    ]  # fmt: skip
    if seen["alpha"]:
        handles.append(Line2D([], [], color="grey", linestyle=":", marker=".", markersize=3, linewidth=0.9,
                              label="wise-ft, a = 0 (baseline)\nto 1 (its base), test sets"))  # fmt: skip
    if seen["images"]:
        handles.append(Line2D([], [], color="grey", linestyle=":", linewidth=0.9, label=(
            f"dotted bars ({IMAGES_MARK}): one unit\n(seed, fold): they cover the\ntest images only, not "
            "the\nnoise between seeds")))  # fmt: skip
    return handles


def alpha_curve_points(results: AnyResults, strategy: str, target: str) -> list[tuple[float, float]]:
    """``[(MI, target accuracy %)]`` per ``a`` of the rows' ``alpha_curve`` (wise-ft), on the test sets,
    mean over units; MI relative to ``a = 0`` (the baseline). Empty without a curve.

    Example:
        >>> alpha_curve_points(read_results("runs/beyond"), "wise-ft", "lab-a-noneutral")[0]  # doctest: +SKIP
        (1.0, 20.0)
    """
    results = as_results(results)
    source = results.source
    by_alpha: dict[float, list[tuple[float, float]]] = {}
    for row in results.members(strategy, target):
        curve = row.alpha_curve
        base = next((_f(p["test"].get(source)) for p in curve if p.get("alpha") == 0.0), math.nan)
        for p in curve if math.isfinite(base) and base else []:
            test = p.get("test") or {}
            if source in test and target in test:
                by_alpha.setdefault(float(p["alpha"]), []).append((test[source] / base, test[target] * 100))
    return [tuple(np.mean(v, axis=0).tolist()) for _, v in sorted(by_alpha.items())]  # type: ignore[misc]


# --------------------------------------------------------------------------- forgetting curves
def _curve_means(rows: Sequence[ResultRow], dataset: str) -> tuple[list[float], list[float]]:
    """Optimizer steps and the mean over rows (units) of the validation accuracy on ``dataset`` at
    each step (points without a ``step``, from older runs, are left out)."""
    by_step: dict[float, list[float]] = {}
    for row in rows:
        for point in row.curve:
            v = _f((point.get("acc") or {}).get(dataset))
            if math.isfinite(v) and point.get("step") is not None:
                by_step.setdefault(float(point["step"]), []).append(v)
    steps = sorted(by_step)
    return steps, [float(np.mean(by_step[s])) * 100 for s in steps]


def _selected_step(row: ResultRow) -> float | None:
    """The optimizer step of the epoch ``select = "best_val"`` kept (from the row's curve)."""
    for point in row.curve:
        if row.selected_epoch is not None and point.get("epoch") == row.selected_epoch:
            return _f(point.get("step")) if point.get("step") is not None else None
    return None


def plot_curves(results: AnyResults, out_dir: str | Path, suffix: str = "") -> list[Path]:
    """Forgetting curves: ``curves_<target><suffix>.png`` (:func:`curves_figure`) per target whose rows
    have a ``curve``; nothing for the others. Returns the paths written.

    Example:
        >>> plot_curves(results, "runs/demo")  # doctest: +SKIP
        [PosixPath('runs/demo/curves_lab-a.png')]
    """
    results = as_results(results)
    written = []
    for target in results.targets_in_order():
        fig = curves_figure(results, target)
        if fig is not None:
            written.append(save_figure(fig, Path(out_dir) / f"curves_{_safe_name(target)}{suffix}.png"))
    return written


def curves_figure(results: AnyResults, target: str) -> Figure | None:
    """Validation accuracy (%) against the optimizer steps of the adaptation to ``target``.

    One colour and marker per strategy (those of ``tradeoff.png``), the target solid and the source
    dashed (said once in the legend), mean over units at each step; a star marks the point that
    ``select = "best_val"`` kept (``selected_epoch``, first unit). Under one step budget, strategies
    whose epochs differ in length are compared at equal steps. ``None`` when no row has a curve.

    Example:
        >>> fig = curves_figure(results, "lab-a")  # doctest: +SKIP
    """
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    results = as_results(results)
    members = [r for r in results.rows if r.target == target and r.curve]
    if not members:
        return None
    source, styles = results.source, strategy_styles(_strategies(results))
    fig, main, side = _framed(5.0, 3.9, 1.7)
    ax = main.add_subplot()
    handles: list[Any] = []
    starred = False
    for strategy in dict.fromkeys(r.strategy for r in members):
        color, marker = styles.get(strategy, ("black", "o"))
        starred |= _curve_lines(
            ax, [r for r in members if r.strategy == strategy], (target, source), color, marker
        )
        handles.append(
            Line2D([], [], color=color, marker=marker, markersize=3, linewidth=1.1, label=strategy)
        )
    handles += [
        Line2D([], [], color="none", label=" "),
        Line2D([], [], color="grey", linestyle="-", label=f"on {target} (target)"),
        Line2D([], [], color="grey", linestyle="--", label=f"on {source} (source)"),
    ]
    if starred:
        handles.append(Line2D([], [], color="grey", marker="*", markersize=8, linestyle="none",
                              markeredgecolor="black", markeredgewidth=0.5,
                              label="kept by best_val"))  # fmt: skip
    side.legend(handles=handles, loc="upper left", fontsize=7, frameon=False)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("optimizer steps of the adaptation", fontsize=8)
    ax.set_ylabel("validation accuracy (%)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.25, linewidth=0.5)
    ax.set_title(_title(results, f"adapting to {target} vs keeping {source}"), fontsize=9)
    return fig


def _curve_lines(ax: Axes, rows: list[ResultRow], datasets: tuple[str, str], color: str, marker: str) -> bool:
    """One strategy's target (solid) and source (dashed) curves, and its ``best_val`` star (drawn?)."""
    for dataset, style in zip(datasets, ("-", "--"), strict=True):
        steps, acc = _curve_means(rows, dataset)
        if steps:
            ax.plot(steps, acc, style, color=color, marker=marker, markersize=3, linewidth=1.1)
    selected = _selected_step(rows[0])
    steps, acc = _curve_means(rows[:1], datasets[0])
    if selected is None or selected not in steps:
        return False
    ax.scatter([selected], [acc[steps.index(selected)]], marker="*", s=90, color=color, edgecolors="black",
               linewidths=0.5, zorder=5)  # fmt: skip
    return True


# --------------------------------------------------------------------------- per-class forgetting
def class_recall_changes(results: AnyResults, target: str, strategies: Sequence[str]) -> np.ndarray:
    """Strategy x source class: recall on the source test set after adapting to ``target`` minus the
    baseline's of the same unit (seed, fold), in points, mean over the units that have both (NaN: none).

    Example:
        >>> from fer_avalanche.results import Results
        >>> r = Results.from_json({"source": "s", "label_names": ["a", "b"], "baseline": {"acc": {}},
        ...     "baselines": [{"seed": 0, "per_class_acc": {"s": [0.9, 0.5]}}],
        ...     "rows": [{"strategy": "ft-fc", "target": "t", "seed": 0, "acc": {},
        ...               "per_class_acc": {"s": [0.8, 0.75]}}]})
        >>> class_recall_changes(r, "t", ["ft-fc"]).round(1).tolist()
        [[-10.0, 25.0]]
    """
    results = as_results(results)
    source, width = results.source, len(results.label_names)
    out = np.full((len(strategies), width), np.nan)
    for i, strategy in enumerate(strategies):
        changes = []
        for row in results.members(strategy, target):
            after, before = row.per_class_acc.get(source), _baseline_recall(results, row)
            if after is not None and before is not None and len(after) == len(before) == width:
                changes.append([_f(a) - _f(b) for a, b in zip(after, before, strict=True)])
        if changes:
            stacked = np.asarray(changes, dtype=float) * 100
            finite = np.isfinite(stacked)
            count = finite.sum(axis=0)
            total = np.where(finite, stacked, 0.0).sum(axis=0)
            out[i] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return out


def _baseline_recall(results: Results, row: ResultRow) -> list[float] | None:
    """The per-class accuracy on the source of ``row``'s unit baseline (a fold-less baseline serves
    every fold)."""
    for b in results.baselines:
        if b.seed == row.seed and b.fold in (row.fold, None) and results.source in b.per_class_acc:
            return b.per_class_acc[results.source]
    return None


def plot_forgetting_classes(results: AnyResults, path: str | Path) -> Path | None:
    """Save :func:`forgetting_classes_figure` at ``path``; ``None`` (nothing written) without per-class
    accuracies.

    Example:
        >>> plot_forgetting_classes(results, "runs/demo/forgetting_classes.png")  # doctest: +SKIP
    """
    fig = forgetting_classes_figure(results)
    return None if fig is None else save_figure(fig, path)


def forgetting_classes_figure(results: AnyResults) -> Figure | None:
    """What adapting did to each source class: strategy x source class heatmaps, one panel per target.

    A cell is :func:`class_recall_changes` (points; blue = recall gained, red = lost, a diverging colour
    map centred on 0, symmetric, saturating beyond the 95th percentile of the changes, rounded up to
    10 points), its number written in it (``–``: unknown). The classes a target's
    training split lacks (its rows' ``target_absent``) are hatched, outlined and marked ``✗``. ``None``
    when no row has per-class accuracies on the source beside its unit's baseline.

    Example:
        >>> fig = forgetting_classes_figure(read_results("runs/demo"))  # doctest: +SKIP
    """
    from matplotlib.colors import TwoSlopeNorm

    results = as_results(results)
    strategies, names = _strategies(results), list(results.label_names)
    changes = {t: class_recall_changes(results, t, strategies) for t in results.targets_in_order()}
    changes = {t: m for t, m in changes.items() if np.isfinite(m).any()}
    if not changes or not names:
        return None
    values = np.abs(np.concatenate([m[np.isfinite(m)] for m in changes.values()]))
    vmax = max(10.0, 10.0 * math.ceil(float(np.percentile(values, 95)) / 10.0))  # a few outliers saturate
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-vmax, vmax=vmax)
    fig, axes, cax = _heatmap_grid(len(changes), names, strategies, results)
    for ax, (target, m) in zip(axes, changes.items(), strict=True):
        image = ax.imshow(m, cmap="RdBu", norm=norm, aspect="auto")
        absent = _absent(results, target)
        _class_panel(ax, m, names, strategies, absent, vmax)
        ax.set_title(
            target + (f"  ({ABSENT_MARK}: not in its training split)" if absent else ""), fontsize=7.5
        )
        ax.set_ylim(len(strategies) - 0.5, -0.5)
    bar = fig.colorbar(image, cax=cax, extend="both" if values.max() > vmax else "neither")
    bar.set_label(f"recall change on {results.source} (points)", fontsize=7)
    bar.ax.tick_params(labelsize=6.5)
    return fig


def _heatmap_grid(
    n: int, names: Sequence[str], strategies: Sequence[str], results: Results
) -> tuple[Figure, list[Axes], Axes]:
    """The figure, ``n`` panels (on :func:`_grid`, sharing y) and the colour bar's axes of
    :func:`forgetting_classes_figure`, placed in inches from the labels' lengths: a fixed layout draws
    in two thirds of the time of matplotlib's constrained one (this plot is in every run)."""
    import textwrap

    char = 0.05  # inches per character of a 6.5 pt label
    left = 0.2 + char * max(len(s) for s in strategies)
    below = 0.2 + 0.75 * char * (max(len(c) for c in names) + 2)  # class names at 45 degrees
    panel_w, panel_h, title_h, gap = 0.36 * len(names) + 0.2, 0.22 * len(strategies) + 0.1, 0.25, 0.3
    nrows, ncols = _grid(n)
    width = max(left + ncols * panel_w + (ncols - 1) * gap + 1.0, 4.8)
    what = (
        f"what adapting did to each source class: recall on the {results.source} test set after adapting "
        "minus the baseline's, in points (mean over units)"
    )
    title = "\n".join(textwrap.wrap(_title(results, what), int(width / 0.065)))
    top = 0.12 + 0.16 * (title.count("\n") + 1)
    height = top + nrows * (title_h + panel_h + below)
    fig = _figure(width, height, layout=None)
    fig.suptitle(title, fontsize=8, y=1 - 0.08 / height, va="top")
    axes: list[Axes] = []
    for k in range(n):
        r, c = divmod(k, ncols)
        x0, y1 = left + c * (panel_w + gap), height - top - r * (title_h + panel_h + below) - title_h
        rect = (x0 / width, (y1 - panel_h) / height, panel_w / width, panel_h / height)
        axes.append(fig.add_axes(rect, sharey=axes[0] if axes else None))
        axes[-1].yaxis.set_tick_params(labelleft=c == 0)
    bottom = height - top - title_h - (nrows - 1) * (title_h + panel_h + below) - panel_h
    span = height - top - title_h - bottom
    x_bar = left + ncols * panel_w + (ncols - 1) * gap + 0.2
    cax = fig.add_axes((x_bar / width, (bottom + 0.1 * span) / height, 0.12 / width, 0.8 * span / height))
    return fig, axes, cax


def _cell_text(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    if round(value, 1) == 0:
        return "0"
    return f"{value:+.0f}" if abs(value) >= 9.95 else f"{value:+.1f}"


def _class_panel(
    ax: Axes, m: np.ndarray, names: list[str], strategies: list[str], absent: list[str], vmax: float
) -> None:
    from matplotlib.patches import Rectangle

    for (i, j), v in np.ndenumerate(m):
        strong = math.isfinite(v) and abs(v) > 0.6 * vmax
        ax.text(
            j, i, _cell_text(v), ha="center", va="center", fontsize=5.5, color="white" if strong else "black"
        )
    ax.set_xticks(range(len(names)), [n + (f" {ABSENT_MARK}" if n in absent else "") for n in names],
                  rotation=45, ha="right", fontsize=6.5)  # fmt: skip
    ax.set_yticks(range(len(strategies)), strategies, fontsize=6.5)
    ax.tick_params(length=0)
    for j, name in enumerate(names):
        if name in absent:
            ax.add_patch(Rectangle((j - 0.5, -0.5), 1, len(strategies), fill=False, hatch="////",
                                   edgecolor="0.4", linewidth=0.0, alpha=0.25))  # fmt: skip
            ax.add_patch(Rectangle((j - 0.48, -0.48), 0.96, len(strategies) - 0.04, fill=False,
                                   edgecolor="firebrick", linewidth=1.0, linestyle="--"))  # fmt: skip
            ax.get_xticklabels()[j].set_color("firebrick")


# --------------------------------------------------------------------------- accuracy matrices
def _unit_label(seed: int | str | None, fold: int | None) -> str:
    text = f"seed {seed if seed is not None else '–'}"
    return text + (f", fold {fold}" if fold is not None else "")


def _heatmap(
    ax: Axes, matrix: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str], title: str
) -> AxesImage:
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


def _plot_sequences(results: Results, path: Path) -> Path:
    datasets = results.dataset_names()
    n = len(results.sequences)
    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    size = max(len(datasets), 2)
    fig = _figure(ncols * (1.0 + 0.75 * size) + 0.8, nrows * (0.9 + 0.45 * size) + 0.3)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    im = None
    for k, seq in enumerate(results.sequences):
        order = list(seq.order or datasets)
        m = np.asarray([[_f(v) for v in r] for r in seq.matrix], dtype=float).reshape(-1, len(order))
        labels = ["baseline"] + [f"after {order[i] if i < len(order) else i}" for i in range(1, m.shape[0])]
        title = f"{seq.strategy} ({_unit_label(seq.seed, seq.fold)})"
        im = _heatmap(axes[k // ncols][k % ncols], m, labels, order, title)
    for k in range(n, nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    if im is not None:
        fig.colorbar(im, ax=axes, shrink=0.8, label="accuracy (%)")
    return save_figure(fig, path)


def plot_accuracy_matrix(results: AnyResults, path: str | Path) -> Path:
    """Accuracy heatmap(s) in %.

    Pairwise mode (or no sequences): rows = baseline + every (strategy -> target), columns = datasets
    (mean over units). Sequential and class-incremental modes: the accuracy matrix R of every sequence
    (row 0 = baseline, row i = after step i), one panel per sequence (strategy, seed, fold).

    Example:
        >>> plot_accuracy_matrix(results, "runs/demo/accuracy_matrix.png")  # doctest: +SKIP
    """
    results = as_results(results)
    if results.mode in ("sequential", "class-incremental") and results.sequences:
        return _plot_sequences(results, Path(path))
    datasets = results.dataset_names()
    labels = [f"baseline ({results.source})"]
    rows = [[_mean([b.acc.get(d) for b in results.baselines]) for d in datasets]]
    for target in results.targets_in_order():
        for strategy in results.strategies_in_order():
            members = results.members(strategy, target)
            if members:
                labels.append(f"{strategy} -> {target}")
                rows.append([_mean([r.acc.get(d) for r in members]) for d in datasets])
    m = np.asarray(rows, dtype=float).reshape(len(rows), len(datasets))
    fig = _figure(2.6 + 0.9 * max(len(datasets), 2), 1.2 + 0.3 * len(rows))
    ax = fig.add_subplot()
    im = _heatmap(ax, m, labels, datasets, _title(results, "test accuracy (%) per dataset"))
    fig.colorbar(im, ax=ax, shrink=0.8, label="accuracy (%)")
    return save_figure(fig, path)


# --------------------------------------------------------------------------- confusion matrices
def _plot_row_confusions(results: Results, row: ResultRow, path: Path) -> Path | None:
    names = list(results.label_names)
    panels = [
        (d, row.confusion[d]) for d in dict.fromkeys([results.source, row.target]) if d in row.confusion
    ]
    if not panels:
        return None
    fig = _figure(3.3 * len(panels), 3.2, layout=None)
    fig.subplots_adjust(left=0.24 / len(panels), bottom=0.25, right=0.98, top=0.9, wspace=0.45)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (d, cm) in zip(axes, panels, strict=True):
        title = f"{row.strategy} on {d} ({_f(row.acc.get(d)):.1%})"
        plot_confusion(cm, names or [str(i) for i in range(len(cm))], ax=ax, title=title)
    return save_figure(fig, path)


def _plot_confusions(results: Results, out_dir: Path) -> list[Path]:
    written: list[Path] = []
    names = list(results.label_names)
    for d, cm in results.baseline.confusion.items():
        title = f"baseline on {d} ({_f(results.baseline.acc.get(d)):.1%})"
        fig = plot_confusion(cm, names or [str(i) for i in range(len(cm))], title=title)
        written.append(save_figure(fig, out_dir / f"{_safe_name('baseline', d)}.png"))
    first_unit = results.rows[0].unit if results.rows else None
    for row in results.rows:
        if row.unit != first_unit:
            continue
        parts = [row.strategy, row.target]
        parts += [f"s{row.seed}"] if row.seed is not None else []
        parts += [f"f{row.fold}"] if row.fold is not None else []
        p = _plot_row_confusions(results, row, out_dir / f"{_safe_name(*parts)}.png")
        if p is not None:
            written.append(p)
    return written
