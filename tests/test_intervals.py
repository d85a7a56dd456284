"""Intervals that mean what they say (issue 20): the unit-level t-interval, the one-unit ``ci_scope``,
honest intervals at the boundary, k-fold rows paired with the baseline's source evaluation, and the
Holm adjustment of ``report --compare``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from test_stats import build_results, correct_vector

from fer_avalanche.classcodes import decode_classes, encode_classes
from fer_avalanche.reporting import format_comparison, markdown_report
from fer_avalanche.stats import (
    add_intervals,
    compare,
    holm,
    t_quantile,
    units_interval,
    wilson_interval,
)


# ---------------------------------------------------------------- primitives
def test_t_quantile_matches_the_table() -> None:
    # Student's t, two-sided 95%: the printed tables' values
    for df, value in ((1, 12.706), (2, 4.303), (4, 2.776), (9, 2.262), (30, 2.042)):
        assert t_quantile(0.975, df) == pytest.approx(value, abs=1e-3)
    assert t_quantile(0.975, math.inf) == pytest.approx(1.95996, abs=1e-4)


def test_holm_on_a_hand_case() -> None:
    # sorted 0.01, 0.03, 0.04 -> x3, x2, x1 = 0.03, 0.06, 0.04 -> monotone: 0.03, 0.06, 0.06
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, None, 0.9]) == pytest.approx([1.0, None, 1.0])  # capped at 1; None stays None
    assert holm([]) == []


def test_unit_interval_is_the_t_interval_and_widens_when_units_disagree() -> None:
    # three units 0.5, 0.6, 0.7 with no image noise: mean 0.6, s = 0.1, t(2) = 4.303
    lo, hi = units_interval([0.5, 0.6, 0.7], [0.0, 0.0, 0.0])
    half = 4.3027 * 0.1 / math.sqrt(3)
    assert (lo, hi) == pytest.approx((0.6 - half, 0.6 + half), abs=1e-4)
    # the image-level variance is added to the units' own: (s^2 + mean v) / k
    lo2, hi2 = units_interval([0.5, 0.6, 0.7], [0.01**2] * 3)
    assert hi2 - lo2 == pytest.approx(2 * 4.3027 * math.sqrt((0.01 + 0.0001) / 3), abs=1e-4)
    # units that agree get the image-level width only; that they disagree widens the interval 10x
    agree = units_interval([0.6, 0.6, 0.6], [0.01**2] * 3)
    assert agree[1] - agree[0] == pytest.approx(2 * 4.3027 * 0.01 / math.sqrt(3), abs=1e-4)
    assert (hi - lo) > 9 * (agree[1] - agree[0])


def test_wilson_interval_at_the_boundary_has_width() -> None:
    lo, hi = wilson_interval(67, 67)
    assert hi == 1.0 and lo == pytest.approx(67 / (67 + 1.959964**2), abs=1e-6)  # 0.946
    lo, hi = wilson_interval(0, 67)
    assert lo == 0.0 and hi == pytest.approx(1.959964**2 / (67 + 1.959964**2), abs=1e-6)


# ---------------------------------------------------------------- add_intervals
def _units(k: int, target_right: list[int], n: int = 67) -> dict[Any, Any]:
    units = {}
    for s in range(k):
        base = {"src": correct_vector(400, 300, s), "tgt": correct_vector(n, 20, s)}
        rows = {
            ("ft-fc", "tgt"): {
                "src": correct_vector(400, 270, s),
                "tgt": correct_vector(n, target_right[s], s),
            }
        }
        units[(s, None)] = {"baseline": base, "rows": rows}
    return build_results(units)


def test_all_correct_row_has_an_interval_of_nonzero_width() -> None:
    out = add_intervals(_units(1, [67]), n_boot=200)
    ci = out["rows"][0]["ci"]
    assert ci["acc"]["tgt"] == pytest.approx([67 / (67 + 1.959964**2), 1.0])  # Wilson, not [1, 1]
    (entry,) = out["summary"]
    assert entry["ci"]["acc"]["tgt"][1] - entry["ci"]["acc"]["tgt"][0] > 0.05
    # unchanged predictions on the source: MI 1.000 is not printed as certain
    cells = {"src": correct_vector(400, 300), "tgt": correct_vector(67, 20)}
    same = build_results({(0, None): {"baseline": cells, "rows": {("naive", "tgt"): dict(cells)}}})
    lo, hi = add_intervals(same, n_boot=200)["rows"][0]["ci"]["memory_integrity"]
    assert lo < 1.0 < hi and hi - lo > 0.005


def test_ci_scope_says_whether_units_back_the_interval() -> None:
    one = add_intervals(_units(1, [50]), n_boot=200)
    assert one["summary"][0]["ci_scope"] == "images" and one["rows"][0]["ci_scope"] == "images"
    assert one["baseline"]["ci_scope"] == "images"
    three = add_intervals(_units(3, [50, 55, 60]), n_boot=200)
    assert three["summary"][0]["ci_scope"] == "units" and three["summary"][0]["n_units"] == 3
    assert three["baseline"]["ci_scope"] == "units"
    md = markdown_report(one)
    line = [x for x in md.splitlines() if x.startswith("| ft-fc | tgt |")][0]
    assert "]ⁱ" in line  # the marker on an images-only interval
    assert "ⁱ" in md.split("\n- ")[-1] or any(x.startswith("- **ⁱ**") for x in md.splitlines())
    md3 = markdown_report(three)
    line3 = [x for x in md3.splitlines() if x.startswith("| ft-fc | tgt |")][0]
    assert "ⁱ" not in line3


def test_summary_over_units_is_the_t_interval_of_the_unit_values() -> None:
    # each seed its own target test set (as split.seed = "run"): V = max(s^2, v), here s^2
    out = add_intervals(_units(3, [45, 50, 55]), n_boot=400)
    (entry,) = out["summary"]
    lo, hi = entry["ci"]["acc"]["tgt"]
    values = np.array([45, 50, 55]) / 67
    assert entry["target_acc"] == pytest.approx(values.mean())
    half = 4.3027 * values.std(ddof=1) / math.sqrt(3)
    assert (lo, hi) == pytest.approx((values.mean() - half, values.mean() + half), abs=1e-4)


def test_units_on_one_test_set_add_its_variance_units_on_their_own_do_not() -> None:
    values, v = [0.60, 0.61, 0.62], [0.0001] * 3  # s^2 = 0.0001 = v
    shared = units_interval(values, v, shared=True)
    own = units_interval(values, v, shared=False)
    assert shared[1] - shared[0] == pytest.approx(2 * 4.3027 * math.sqrt(0.0002 / 3), abs=1e-5)
    assert own[1] - own[0] == pytest.approx(2 * 4.3027 * math.sqrt(0.0001 / 3), abs=1e-5)
    # units that agree exactly still get the images' width, whether they share a test set or not
    assert units_interval([0.6] * 3, v, shared=False)[1] - 0.6 == pytest.approx(
        4.3027 * 0.01 / math.sqrt(3), abs=1e-5
    )


# ---------------------------------------------------------------- k-fold
def _kfold_results() -> dict[str, Any]:
    """Like a ``split.folds = "all"`` run: the source lives in the (seed, None) baseline entry, each
    fold's entry holds only that fold's target test set."""
    units, src_right = {}, {}
    for f in range(3):
        base = {"src": correct_vector(400, 300), "tgt": correct_vector(60, 20, f)}
        src_right[f] = correct_vector(400, 280 - 10 * f, f)
        rows = {("ft-fc", "tgt"): {"src": src_right[f], "tgt": correct_vector(60, 45, f)}}
        units[(0, f)] = {"baseline": base, "rows": rows}
    results = build_results(units)
    src = results["baselines"][0]
    labels = decode_classes(src["labels"]["src"])  # one source test set, in one order, for every fold
    for f, row in enumerate(results["rows"]):
        row["predictions"]["src"] = encode_classes(np.where(src_right[f], labels, (labels + 1) % 7))
    fold_free = {
        "seed": 0, "fold": None, "acc": {"src": src["acc"]["src"]}, "macro_f1": {"src": src["acc"]["src"]},
        "labels": {"src": src["labels"]["src"]}, "predictions": {"src": src["predictions"]["src"]},
    }  # fmt: skip
    for b in results["baselines"]:
        for key in ("acc", "macro_f1", "labels", "predictions"):
            b[key] = {"tgt": b[key]["tgt"]}
    results["baselines"].insert(0, fold_free)
    return results


def test_kfold_rows_get_source_and_mi_intervals_from_the_fold_free_baseline() -> None:
    out = add_intervals(_kfold_results(), n_boot=200)
    for row in out["rows"]:
        ci = row["ci"]
        assert ci["acc"]["src"] is not None and ci["memory_integrity"] is not None
        assert ci["source_drop"] is not None and ci["target_gain"] is not None
        assert ci["memory_integrity"][0] < row["memory_integrity"] < ci["memory_integrity"][1]
    (entry,) = out["summary"]
    assert entry["n_units"] == 3 and entry["ci_scope"] == "units"
    assert entry["ci"]["memory_integrity"] is not None and entry["ci"]["source_drop"] is not None
    # the folds share the source test set: its variance is added to the folds' spread (V = s^2 + v)
    src = np.array([280, 270, 260]) / 400
    v = np.mean(src * (1 - src) / 400)
    lo, hi = entry["ci"]["acc"]["src"]
    assert (hi - lo) / 2 == pytest.approx(4.3027 * math.sqrt((src.var(ddof=1) + v) / 3), rel=0.1)
    assert out["baseline"]["ci"]["acc"]["src"] is not None and out["baseline"]["ci"]["acc"]["tgt"] is not None
    line = [x for x in markdown_report(out).splitlines() if x.startswith("| ft-fc | tgt |")][0]
    assert "± 0.0" not in line and line.count("[") >= 5


# ---------------------------------------------------------------- compare
def test_compare_reports_holm_adjusted_p_values_and_warns_below_three_units() -> None:
    units = {}
    for s in range(3):
        base = {"src": correct_vector(400, 300, s), "tgt": correct_vector(67, 20, s)}
        units[(s, None)] = {
            "baseline": base,
            "rows": {
                ("a", "tgt"): {"src": correct_vector(400, 250 + s, s), "tgt": correct_vector(67, 60, s)},
                ("b", "tgt"): {"src": correct_vector(400, 290 - s, s), "tgt": correct_vector(67, 40 + s, s)},
            },
        }
    three = compare(build_results(units), "a", "b", n_boot=200)
    (t,) = three["targets"]
    assert t["ci_scope"] == "units" and three["adjustment"] == "holm" and three["warnings"] == []
    raw = [t[m]["p"] for m in ("target_acc", "source_acc", "memory_integrity")]
    assert [t[m]["p_holm"] for m in ("target_acc", "source_acc", "memory_integrity")] == pytest.approx(
        holm(raw)
    )
    text = format_comparison(three)
    assert "Holm" in text and "3 comparisons" in text
    two = compare(build_results({u: units[u] for u in [(0, None), (1, None)]}), "a", "b", n_boot=200)
    assert two["warnings"] and "fewer than 3 units" in two["warnings"][0]
    assert "fewer than 3 units" in format_comparison(two)


# ---------------------------------------------------------------- the CLI and the plot
def test_report_compare_warns_on_stderr_below_three_units(tmp_path, capsys) -> None:
    import json

    from test_reporting import make_results

    from fer_avalanche.cli import main

    (tmp_path / "results.json").write_text(json.dumps(make_results(seeds=(0, 1))))
    assert main(["report", str(tmp_path), "--compare", "fusion", "ft-fc", "--n-boot", "100"]) == 0
    captured = capsys.readouterr()
    assert "warning: fewer than 3 units" in captured.err and "jaffe (2)" in captured.err
    assert "> **warning**: fewer than 3 units" in captured.out


def test_tradeoff_marks_one_unit_points_as_images_only() -> None:
    from test_reporting import make_results

    from fer_avalanche.reporting import ensure_intervals, tradeoff_figure

    def note_and_dotted(fig) -> tuple[bool, bool]:  # the legend's ⁱ note; every bar of a panel dotted
        texts = [t.get_text() for sub in fig.subfigs for leg in sub.legends for t in leg.get_texts()]
        (xbars,) = [c for c in fig.axes[0].collections if c.get_label() == "_xbars"]
        note = any("ⁱ" in t and "test images only" in t for t in texts)
        return note, all(dashes is not None for _, dashes in xbars.get_linestyle())

    assert note_and_dotted(tradeoff_figure(ensure_intervals(make_results(), n_boot=100))) == (True, True)
    fig3 = tradeoff_figure(ensure_intervals(make_results(seeds=(0, 1, 2)), n_boot=100))
    assert note_and_dotted(fig3) == (False, False)
