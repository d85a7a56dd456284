"""The plots read what they claim: the trade-off's panels, legend, intervals and Pareto front, the
per-class forgetting heatmap's numbers, the curves' steps, and one set of files per variant.

Figures are inspected as matplotlib objects (no rendering) except in the one test that writes PNGs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _plot_helpers import STRATEGIES, fabricated
from PIL import Image

from fer_avalanche.reporting import plots
from fer_avalanche.results import Results


def _panels(fig: Any) -> list[Any]:
    return [ax for ax in fig.axes if ax.get_visible()]


def _legends(fig: Any) -> list[Any]:
    figures = [fig, *fig.subfigs]
    return [leg for f in figures for leg in f.legends] + [
        ax.get_legend() for ax in fig.axes if ax.get_legend()
    ]


def _labels(fig: Any) -> list[str]:
    (legend,) = _legends(fig)
    return [t.get_text() for t in legend.get_texts()]


def _points(ax: Any) -> dict[str, Any]:
    """The strategy points of a trade-off panel: {strategy: its one-point line}."""
    return {line.get_label(): line for line in ax.lines if not line.get_label().startswith("_")}


def _bar(ax: Any, axis: str, x: float, y: float) -> tuple[list[float], bool]:
    """The ``axis`` error bar through the point (x, y): its ends and whether it is dotted."""
    (bars,) = [c for c in ax.collections if c.get_label() == f"_{axis}bars"]
    k = 1 if axis == "x" else 0  # the coordinate the bar keeps
    at = [i for i, seg in enumerate(bars.get_segments()) if np.allclose(seg[:, k], (x, y)[k])
          and seg[0, 1 - k] <= (x, y)[1 - k] <= seg[1, 1 - k]]  # fmt: skip
    (i,) = at
    return bars.get_segments()[i][:, 1 - k].tolist(), bars.get_linestyle()[i][1] is not None


# ---------------------------------------------------------------- tradeoff.png
def test_tradeoff_has_one_panel_per_target_on_shared_axes() -> None:
    results = fabricated(5, 9)
    fig = plots.tradeoff_figure(results)
    panels = _panels(fig)
    assert [ax.get_title() for ax in panels] == ["t1", "t2", "t3", "t4", "t5"]
    assert len({ax.get_xlim() for ax in panels}) == 1 and len({ax.get_ylim() for ax in panels}) == 1
    (x0, x1), (y0, y1) = panels[0].get_xlim(), panels[0].get_ylim()
    for e in results.summary or []:  # every point of every target inside the shared limits
        assert x0 < e.memory_integrity < x1 and y0 < e.target_acc * 100 < y1
    assert [ax.get_title() for ax in _panels(plots.tradeoff_figure(results.to_json()))][:2] == ["t1", "t2"]


def test_tradeoff_names_each_strategy_once_in_one_legend_and_writes_no_text_at_points() -> None:
    fig = plots.tradeoff_figure(fabricated(5, 9))
    assert all(not ax.texts for ax in fig.axes)
    labels = _labels(fig)
    assert labels[:9] == STRATEGIES[:9]
    assert all(labels.count(s) == 1 for s in STRATEGIES[:9]) and "baseline (not adapted)" in labels
    assert "Pareto front" in labels and any("test images only" in t for t in labels)


def test_each_strategy_has_one_colour_and_marker_in_every_panel_and_sits_at_its_means() -> None:
    results = fabricated(4, 9)
    fig = plots.tradeoff_figure(results)
    (legend,) = _legends(fig)
    style = {h.get_label(): (h.get_color(), h.get_marker()) for h in legend.legend_handles}
    assert len({style[s] for s in STRATEGIES[:9]}) == 9
    for ax, target in zip(_panels(fig), results.targets_in_order(), strict=True):
        points = _points(ax)
        assert sorted(points) == sorted(STRATEGIES[:9])
        for strategy, line in points.items():
            assert (line.get_color(), line.get_marker()) == style[strategy]
            (entry,) = [e for e in results.summary or [] if (e.strategy, e.target) == (strategy, target)]
            assert line.get_xdata()[0] == pytest.approx(entry.memory_integrity)
            assert line.get_ydata()[0] == pytest.approx(entry.target_acc * 100)


def test_error_bars_are_the_intervals_dotted_where_one_unit_backs_them() -> None:
    results = fabricated(2, 3)
    (entry,) = [e for e in results.summary or [] if (e.strategy, e.target) == ("retrain", "t2")]
    ax = _panels(plots.tradeoff_figure(results))[1]
    x, y = entry.memory_integrity, entry.target_acc * 100
    (xends, xdotted), (yends, ydotted) = _bar(ax, "x", x, y), _bar(ax, "y", x, y)
    assert xends == pytest.approx([entry.ci.memory_integrity.lo, entry.ci.memory_integrity.hi])
    assert yends == pytest.approx([entry.ci.acc["t2"].lo * 100, entry.ci.acc["t2"].hi * 100])
    assert xdotted and ydotted  # test images only
    (base,) = [e for e in results.summary or [] if (e.strategy, e.target) == ("baseline", "t2")]
    assert _bar(ax, "y", 1.0, 20.0)[0] == pytest.approx(
        [base.ci.acc["t2"].lo * 100, base.ci.acc["t2"].hi * 100]
    )
    several = plots.tradeoff_figure(fabricated(2, 3, seeds=(0, 1, 2)))
    assert not _bar(_panels(several)[1], "x", x, y)[1]  # solid: the interval covers the seeds
    assert not any("test images only" in t for t in _labels(several))


def test_the_pareto_front_of_each_panel_is_joined_and_ringed() -> None:
    results = fabricated(3, 6)
    for ax, target in zip(_panels(plots.tradeoff_figure(results)), results.targets_in_order(), strict=True):
        front = sorted(
            (e.memory_integrity, e.target_acc * 100)
            for e in results.summary or []
            if e.target == target and e.pareto
        )
        assert (1.0, 20.0) in front and len(front) == 5  # the baseline and 4 of 6 strategies
        joined = [
            np.c_[line.get_xdata(), line.get_ydata()] for line in ax.lines if len(line.get_xdata()) == 5
        ]
        assert any(np.allclose(xy, front) for xy in joined)
        rings = [c.get_offsets() for c in ax.collections if len(c.get_offsets()) == 5]
        assert any(np.allclose(xy, front) for xy in rings)


def test_wise_ft_alpha_curve_is_drawn_in_its_colour() -> None:
    results = fabricated(2, 9)
    fig = plots.tradeoff_figure(results)
    colour = plots.strategy_styles(STRATEGIES[:9])["wise-ft"][0]
    for ax, target in zip(_panels(fig), ["t1", "t2"], strict=True):
        curve = plots.alpha_curve_points(results, "wise-ft", target)
        assert len(curve) == 3 and curve[0][0] == pytest.approx(1.0)
        drawn = [line for line in ax.lines if len(line.get_xdata()) == 3 and line.get_linestyle() == ":"]
        assert [line.get_color() for line in drawn] == [colour]
        assert np.allclose(np.c_[drawn[0].get_xdata(), drawn[0].get_ydata()], curve)


def test_tradeoff_reads_with_one_target_and_twelve_strategies() -> None:
    fig = plots.tradeoff_figure(fabricated(1, 12, curves=False))
    assert [ax.get_title() for ax in _panels(fig)] == ["t1"]
    (legend,) = _legends(fig)
    pairs = {(h.get_color(), h.get_marker()) for h in legend.legend_handles[:12]}
    assert len(pairs) == 12
    absent = plots.tradeoff_figure(fabricated(2, 2, absent={"t2": ["neutral"]}))
    assert [ax.get_title() for ax in _panels(absent)] == ["t1", "t2  (lacks neutral)"]


# ---------------------------------------------------------------- forgetting_classes.png
def _tiny() -> Results:
    """3 classes, 2 seeds; ft-fc and lwf on t1 and t2 (t2 lacks class c); one unknown recall."""
    rows = [
        ("ft-fc", "t1", 0, [0.4, 0.6, 0.2]), ("ft-fc", "t1", 1, [0.4, 0.4, None]),
        ("lwf", "t1", 0, [0.5, 0.5, 0.8]), ("ft-fc", "t2", 0, [0.5, 0.8, 0.0]),
        ("lwf", "t2", 0, [0.55, 0.5, 0.8]), ("lwf", "t2", 1, [0.3, 0.2, 0.7]),
    ]  # fmt: skip
    return Results.from_json({
        "scenario": "tiny", "source": "s", "datasets": ["s", "t1", "t2"], "label_names": ["a", "b", "c"],
        "baseline": {"acc": {"s": 0.6}},
        "baselines": [{"seed": 0, "per_class_acc": {"s": [0.5, 0.5, 0.8]}},
                      {"seed": 1, "per_class_acc": {"s": [0.6, 0.4, 0.8]}}],
        "rows": [{"strategy": st, "target": t, "seed": seed, "acc": {}, "per_class_acc": {"s": pc},
                  "target_absent": ["c"] if t == "t2" else []} for st, t, seed, pc in rows],
    })  # fmt: skip


def test_forgetting_heatmap_cells_are_the_recall_changes_against_each_units_baseline() -> None:
    fig = plots.forgetting_classes_figure(_tiny())
    t1, t2 = _panels(fig)[:2]
    # ft-fc on t1: a (-10, -20) -> -15, b (+10, 0) -> +5, c -60 (seed 1 unknown); lwf on t1: seed 0 only
    expected = {t1: [[-15, 5, -60], [0, 0, 0]], t2: [[0, 30, -80], [-12.5, -10, -5]]}
    for ax, want in expected.items():
        assert np.allclose(ax.images[0].get_array(), want)
        assert [t.get_text() for t in ax.texts] == [plots._cell_text(v) for v in np.ravel(want)]
    assert [t.get_text() for t in t1.texts][:3] == ["-15", "+5.0", "-60"]
    norm = t1.images[0].norm
    assert norm.vcenter == 0 and norm.vmin == -norm.vmax and norm.vmax >= 60
    assert t1.images[0].get_cmap().name == "RdBu"
    ticks = {ax: [t.get_text() for t in ax.get_xticklabels()] for ax in (t1, t2)}
    assert ticks[t1] == ["a", "b", "c"] and ticks[t2] == ["a", "b", f"c {plots.ABSENT_MARK}"]
    assert [t.get_text() for t in t1.get_yticklabels()] == ["ft-fc", "lwf"]
    hatched = [p for p in t2.patches if p.get_hatch()]
    assert len(hatched) == 1 and hatched[0].get_x() == pytest.approx(1.5) and not t1.patches


def test_a_fold_is_compared_with_its_own_baseline_and_a_fold_less_baseline_serves_every_fold() -> None:
    def run(baselines: list[dict[str, Any]]) -> list[float]:
        rows = [
            {
                "strategy": "ft-fc",
                "target": "t",
                "seed": 0,
                "fold": 1,
                "acc": {},
                "per_class_acc": {"s": [0.5]},
            }
        ]
        results = {
            "source": "s",
            "label_names": ["a"],
            "baseline": {"acc": {}},
            "baselines": baselines,
            "rows": rows,
        }
        return plots.class_recall_changes(results, "t", ["ft-fc"])[0].tolist()

    per_fold = [{"seed": 0, "fold": f, "per_class_acc": {"s": [0.9 - 0.1 * f]}} for f in (0, 1)]
    assert run(per_fold) == pytest.approx([-30.0])  # 0.5 - 0.8 (fold 1), not 0.5 - 0.9 (fold 0)
    assert run([{"seed": 0, "fold": None, "per_class_acc": {"s": [0.6]}}]) == pytest.approx([-10.0])
    assert np.isnan(run([{"seed": 1, "fold": 1, "per_class_acc": {"s": [0.6]}}])).all()  # another seed's


def test_no_forgetting_heatmap_without_per_class_accuracies(tmp_path: Path) -> None:
    plain = Results.from_json(
        {
            "source": "s",
            "label_names": ["a"],
            "baseline": {"acc": {}},
            "rows": [{"strategy": "x", "target": "t", "acc": {}}],
        }
    )
    assert plots.forgetting_classes_figure(plain) is None
    assert plots.plot_forgetting_classes(plain, tmp_path / "f.png") is None and not list(tmp_path.iterdir())


# ---------------------------------------------------------------- curves_<target>.png
def test_curves_run_along_optimizer_steps_with_each_strategy_once_in_the_legend() -> None:
    results = fabricated(1, 9)
    fig = plots.curves_figure(results, "t1")
    (ax,) = fig.axes
    assert ax.get_xlabel() == "optimizer steps of the adaptation"
    styles = plots.strategy_styles(STRATEGIES[:9])
    by_colour: dict[str, list[Any]] = {}
    for line in ax.lines:
        by_colour.setdefault(line.get_color(), []).append(line)
    fusion = by_colour[styles["fusion"][0]]
    assert [list(line.get_xdata()) for line in fusion] == [[32.0, 64.0, 96.0]] * 2  # 3 epochs of 32 steps
    assert [line.get_linestyle() for line in fusion] == ["-", "--"]  # target solid, source dashed
    assert list(by_colour[styles["ft-fc"][0]][0].get_xdata()) == [16.0 * e for e in range(1, 7)]
    labels = _labels(fig)
    assert labels[:9] == STRATEGIES[:9] and len(labels) == len(set(labels))
    assert "on t1 (target)" in labels and "on wild (source)" in labels and "kept by best_val" in labels
    (star,) = ax.collections
    assert star.get_offsets()[0][0] == 32.0  # ft-fc's selected epoch 2, at its step
    assert plots.curves_figure(fabricated(1, 2, curves=False), "t1") is None


# ---------------------------------------------------------------- render_plots
def test_render_plots_writes_one_set_per_variant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved: list[str] = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: saved.append(Path(path).name) or Path(path))
    variants = ({"adapt.lr": 0.001}, {"adapt.lr": 0.01})
    plots.render_plots(fabricated(1, 2, variants=variants), tmp_path, confusion_plots=False)
    names = ["tradeoff", "accuracy_matrix", "curves_t1", "forgetting_classes"]
    assert sorted(saved) == sorted(f"{n}__lr={v}.png" for n in names for v in (0.001, 0.01))
    saved.clear()
    plots.render_plots(fabricated(1, 2, curves=False), tmp_path, confusion_plots=False)
    assert saved == ["tradeoff.png", "accuracy_matrix.png", "forgetting_classes.png"]


def test_render_plots_writes_valid_pngs(tmp_path: Path) -> None:
    written = plots.render_plots(fabricated(1, 2, curves=False), tmp_path, confusion_plots=False)
    assert [p.name for p in written] == ["tradeoff.png", "accuracy_matrix.png", "forgetting_classes.png"]
    for path in written:
        with Image.open(path) as img:
            assert img.format == "PNG" and min(img.size) > 150
