"""Bootstrap intervals, summaries over units, the Pareto front and paired comparisons, on hand-made
results dicts in the contract's schema (``build_results``: per-sample correctness in, results out)."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest

from fer_avalanche.classcodes import encode_classes
from fer_avalanche.errors import ConfigError
from fer_avalanche.stats import (
    ResultsError,
    add_intervals,
    bootstrap_accuracies,
    compare,
    pareto_front,
    percentile_interval,
)

C = 7


# ---------------------------------------------------------------- builder
def correct_vector(n: int, k: int, offset: int = 0) -> np.ndarray:
    """``n`` booleans with exactly ``k`` True, spread evenly (rolled by ``offset``)."""
    v = np.zeros(n, dtype=bool)
    v[np.linspace(0, n, k, endpoint=False).astype(int)] = True
    return np.roll(v, offset)


def _labels(n: int, salt: int) -> np.ndarray:
    return (np.arange(n) * 3 + salt) % C


def _predictions(labels: np.ndarray, correct: Sequence[bool]) -> np.ndarray:
    return np.where(np.asarray(correct, dtype=bool), labels, (labels + 1) % C)


def build_results(
    units: Mapping[tuple[Any, Any], Mapping[str, Any]],
    *,
    source: str = "src",
    datasets: Sequence[str] | None = None,
    predictions: bool = True,
) -> dict[str, Any]:
    """A results dict in the contract's schema from per-sample correctness.

    ``units``: ``{(seed, fold): {"baseline": {D: correct}, "rows": {(strategy, target): {D: correct}},
    "budget": {(strategy, target): {...}} (optional), "curve": {(strategy, target): [...]} (optional)}}``.
    Labels are fixed per (unit, dataset); a wrong prediction is ``label + 1``. ``predictions=False``
    leaves out ``labels`` / ``predictions`` (a run made before they were recorded).
    """
    first = next(iter(units.values()))
    datasets = list(datasets or first["baseline"])
    results: dict[str, Any] = {
        "scenario": "unit",
        "mode": "pairwise",
        "source": source,
        "datasets": datasets,
        "label_names": ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"],
        "seeds": sorted({s for s, _ in units}, key=str),
        "folds": sorted({f for _, f in units}, key=str),
        "baselines": [],
        "rows": [],
        "sequences": [],
    }
    for u, ((seed, fold), spec) in enumerate(units.items()):
        labels = {d: _labels(len(c), u + k) for k, (d, c) in enumerate(spec["baseline"].items())}
        base_acc = {d: float(np.mean(c)) for d, c in spec["baseline"].items()}
        base = {"seed": seed, "fold": fold, "acc": base_acc, "macro_f1": dict(base_acc),
                "n": {d: len(c) for d, c in spec["baseline"].items()}}  # fmt: skip
        if predictions:
            base["labels"] = {d: encode_classes(v) for d, v in labels.items()}
            base["predictions"] = {
                d: encode_classes(_predictions(labels[d], c)) for d, c in spec["baseline"].items()
            }
        results["baselines"].append(base)
        for (strategy, target), correct in spec["rows"].items():
            acc = {d: float(np.mean(c)) for d, c in correct.items()}
            row = {
                "strategy": strategy, "target": target, "seed": seed, "fold": fold, "acc": acc,
                "macro_f1": dict(acc), "n": {d: len(c) for d, c in correct.items()},
                "memory_integrity": acc[source] / base_acc[source],
                "source_drop": base_acc[source] - acc[source],
                "target_gain": acc[target] - base_acc[target], "train_time_s": 1.0,
                "budget": (spec.get("budget") or {}).get(
                    (strategy, target), {"steps": 100, "target_passes": 4.0, "source_samples": 0, "epochs": 4}
                ),
                "curve": (spec.get("curve") or {}).get((strategy, target), []),
                "selected_epoch": None,
            }  # fmt: skip
            if predictions:
                row["predictions"] = {
                    d: encode_classes(_predictions(labels[d], c)) for d, c in correct.items()
                }
            results["rows"].append(row)
    first_base = results["baselines"][0]
    results["baseline"] = {
        "source": source,
        "acc": {d: float(np.mean([b["acc"][d] for b in results["baselines"]])) for d in datasets},
        "macro_f1": {d: float(np.mean([b["macro_f1"][d] for b in results["baselines"]])) for d in datasets},
        "confusion": {d: np.eye(C, dtype=int).tolist() for d in first_base["acc"]},
    }
    return results


def one_unit(rows: Mapping[tuple[str, str], Mapping[str, np.ndarray]], baseline: Mapping[str, np.ndarray]):
    return build_results({(0, None): {"baseline": baseline, "rows": rows}})


def _width(ci: Sequence[float]) -> float:
    return ci[1] - ci[0]


# ---------------------------------------------------------------- primitives
def test_all_correct_cell_has_the_wilson_interval() -> None:
    # issue 20: an all-correct cell used to get [1.0, 1.0] (the bootstrap collapses); the interval is
    # now at least what the test-set size allows: Wilson for accuracies, +- z^2/(n+z^2) for MI
    n = 60
    base = {"src": correct_vector(200, 200), "tgt": correct_vector(n, 20)}
    out = add_intervals(
        one_unit({("ft-fc", "tgt"): {"src": correct_vector(200, 200), "tgt": np.ones(n)}}, base)
    )
    ci = out["rows"][0]["ci"]
    z2 = 1.959964**2
    assert ci["acc"]["tgt"] == pytest.approx([n / (n + z2), 1.0])
    assert ci["acc"]["src"] == pytest.approx([200 / (200 + z2), 1.0])
    assert ci["memory_integrity"] == pytest.approx([1.0 - z2 / (200 + z2), 1.0 + z2 / (200 + z2)])
    assert out["baseline"]["ci"]["acc"]["src"] == pytest.approx([200 / (200 + z2), 1.0])


def test_half_correct_interval_has_the_binomial_width() -> None:
    n, k = 400, 200
    draws = bootstrap_accuracies([correct_vector(n, k)], n_boot=4000, seed=1)[:, 0]
    lo, hi = percentile_interval(draws)
    assert lo < 0.5 < hi
    binomial = 2 * 1.959964 * math.sqrt(0.5 * 0.5 / n)  # 0.098
    assert _width([lo, hi]) == pytest.approx(binomial, rel=0.12)
    assert np.mean(draws) == pytest.approx(0.5, abs=0.005)


def test_bootstrap_is_seeded_and_checks_its_input() -> None:
    c = [correct_vector(50, 30)]
    np.testing.assert_array_equal(bootstrap_accuracies(c, 100, seed=3), bootstrap_accuracies(c, 100, seed=3))
    assert not np.array_equal(bootstrap_accuracies(c, 100, seed=3), bootstrap_accuracies(c, 100, seed=4))
    with pytest.raises(ConfigError, match="images > 0"):
        bootstrap_accuracies(np.zeros((1, 0)))
    assert percentile_interval([math.nan, math.inf]) is None


# ---------------------------------------------------------------- pairing
def test_identical_predictions_give_the_least_width_gain_and_mi() -> None:
    # issue 20: these were [1, 1] and [0, 0] (reads as certainty); now +- z^2/(n+z^2), the half-width
    # Wilson gives 0 discordant images of n (divided by the baseline's accuracy for MI)
    base = {"src": correct_vector(300, 180), "tgt": correct_vector(67, 20)}
    out = add_intervals(one_unit({("naive", "tgt"): dict(base)}, base))
    ci = out["rows"][0]["ci"]
    z2 = 1.959964**2
    w_src, w_tgt = z2 / (300 + z2), z2 / (67 + z2)
    assert ci["memory_integrity"] == pytest.approx([1.0 - w_src / 0.6, 1.0 + w_src / 0.6])
    assert ci["target_gain"] == pytest.approx([-w_tgt, w_tgt])
    assert ci["source_drop"] == pytest.approx([-w_src, w_src])
    assert _width(ci["acc"]["src"]) > 0.05  # the accuracy itself is uncertain


def test_paired_mi_interval_is_narrower_than_unpaired() -> None:
    n = 1000
    base_src = correct_vector(n, 600)
    adapted = base_src.copy()
    adapted[np.flatnonzero(base_src)[::12]] = False  # forgets 50 of the 600; keeps every baseline error
    base = {"src": base_src, "tgt": correct_vector(100, 30)}
    out = add_intervals(one_unit({("ft-fc", "tgt"): {"src": adapted, "tgt": correct_vector(100, 80)}}, base))
    paired = out["rows"][0]["ci"]["memory_integrity"]
    a = bootstrap_accuracies([adapted], 1000, seed=11)[:, 0]
    b = bootstrap_accuracies([base_src], 1000, seed=12)[:, 0]
    unpaired = percentile_interval(a / b)
    mi = 550 / 600
    assert paired[0] < mi < paired[1] and unpaired[0] < mi < unpaired[1]
    assert _width(paired) < 0.5 * _width(unpaired)


def test_target_gain_interval_is_paired_with_the_baseline() -> None:
    # the adapted model gets right every image the baseline got right, plus 20 more of 100
    base_t = correct_vector(100, 30)
    adapted_t = base_t.copy()
    adapted_t[np.flatnonzero(~base_t)[:20]] = True
    base = {"src": correct_vector(200, 150), "tgt": base_t}
    out = add_intervals(
        one_unit({("ft-fc", "tgt"): {"src": correct_vector(200, 150), "tgt": adapted_t}}, base)
    )
    lo, hi = out["rows"][0]["ci"]["target_gain"]
    assert lo > 0.1 and hi < 0.3  # gain 0.2; unpaired would reach below 0.1 (two 0.09-wide intervals)
    assert out["rows"][0]["target_gain"] == pytest.approx(0.2)


# ---------------------------------------------------------------- summaries over units
def test_two_level_summary_spans_the_units() -> None:
    n = 2000

    def unit(target_correct: int) -> dict[str, Any]:
        return {
            "baseline": {"src": correct_vector(n, 1600), "tgt": correct_vector(n, 200)},
            "rows": {
                ("ft-fc", "tgt"): {"src": correct_vector(n, 1600), "tgt": correct_vector(n, target_correct)}
            },
        }

    units = {(0, None): unit(400), (1, None): unit(1600)}
    out = add_intervals(build_results(units))
    (entry,) = out["summary"]
    assert entry["n_units"] == 2 and entry["units"] == [{"seed": 0, "fold": None}, {"seed": 1, "fold": None}]
    assert entry["target_acc"] == pytest.approx(0.5)
    lo, hi = entry["ci"]["acc"]["tgt"]
    # units resampled: the mean of two draws from {0.2, 0.8} is 0.2 or 0.8 a quarter of the time each
    assert lo < 0.22 and hi > 0.78
    # each row's own interval is only the test-set noise around 0.2 and 0.8
    assert _width(out["rows"][0]["ci"]["acc"]["tgt"]) < 0.05
    assert out["rows"][0]["ci"]["acc"]["tgt"][1] < 0.25 < 0.75 < out["rows"][1]["ci"]["acc"]["tgt"][0]
    assert out["baseline"]["ci"]["acc"]["tgt"][0] < 0.1 < out["baseline"]["ci"]["acc"]["tgt"][1]


def test_single_unit_summary_is_the_row_interval_and_means_the_budget() -> None:
    base = {"src": correct_vector(300, 200), "tgt": correct_vector(50, 10)}
    results = one_unit(
        {("ft-fc", "tgt"): {"src": correct_vector(300, 180), "tgt": correct_vector(50, 40)}}, base
    )
    results["rows"][0]["budget"] = {"steps": 120, "target_passes": 5.0, "source_samples": 0, "epochs": 5}
    out = add_intervals(results)
    (entry,) = out["summary"]
    assert entry["ci"] == out["rows"][0]["ci"]
    assert entry["budget"] == {"steps": 120, "target_passes": 5.0, "source_samples": 0, "epochs": 5}
    assert entry["memory_integrity"] == pytest.approx(180 / 200) and entry["n_units"] == 1
    assert out["intervals"]["level"] == 0.95 and out["intervals"]["n_boot"] == 1000


def test_a_rows_draws_do_not_depend_on_the_other_rows() -> None:
    base = {"src": correct_vector(300, 200), "tgt": correct_vector(60, 20)}
    one = {("ft-fc", "tgt"): {"src": correct_vector(300, 150), "tgt": correct_vector(60, 40)}}
    two = {("retrain", "tgt"): {"src": correct_vector(300, 100), "tgt": correct_vector(60, 50)}, **one}
    a, b = add_intervals(one_unit(one, base)), add_intervals(one_unit(two, base))
    assert a["rows"][0]["ci"] == b["rows"][1]["ci"]
    assert add_intervals(one_unit(one, base), seed=1)["rows"][0]["ci"] != a["rows"][0]["ci"]


def test_add_intervals_leaves_its_input_alone() -> None:
    base = {"src": correct_vector(100, 60), "tgt": correct_vector(40, 10)}
    results = one_unit(
        {("ft-fc", "tgt"): {"src": correct_vector(100, 50), "tgt": correct_vector(40, 30)}}, base
    )
    before = copy.deepcopy(results)
    add_intervals(results, n_boot=50)
    assert results == before


# ---------------------------------------------------------------- Pareto
def test_pareto_front_hand_set() -> None:
    points = [(0.9, 0.70), (0.8, 0.90), (0.7, 0.60), (0.8, 0.90), (0.6, 0.95), (math.nan, 1.0)]
    assert pareto_front(points) == [True, True, False, True, True, False]
    # a reference (the baseline) dominates what is worse on both axes, is never reported itself
    assert pareto_front([(0.2, 0.8), (0.5, 0.8)], reference=[(0.3, 1.0)]) == [False, True]
    assert pareto_front([(0.3, 1.0)], reference=[(0.3, 1.0)]) == [True]  # a tie with it stays


def test_summary_marks_the_front_per_target_with_the_baseline_competing() -> None:
    n = 100
    base = {"src": correct_vector(n, 80), "a": correct_vector(n, 40), "b": correct_vector(n, 40)}

    def row(src: int, target: str, right: int) -> dict[str, np.ndarray]:
        return {**base, "src": correct_vector(n, src), target: correct_vector(n, right)}

    rows = {  # (MI, target acc); the baseline is (1.0, 0.4)
        ("fusion", "a"): row(76, "a", 60),  # (0.95, 0.6)
        ("ft-fc", "a"): row(60, "a", 90),  # (0.75, 0.9)
        ("lwf", "a"): row(60, "a", 50),  # (0.75, 0.5): dominated by ft-fc
        ("bad", "a"): row(79, "a", 30),  # (0.9875, 0.3): no strategy beats its MI; only the baseline does
        ("lwf", "b"): row(60, "b", 50),  # alone on target b
        ("baseline", "b"): base,  # the not-adapted row: the reference point, never marked itself
    }
    out = add_intervals(one_unit(rows, base), n_boot=50)
    front = {(e["strategy"], e["target"]): e["pareto"] for e in out["summary"]}
    assert front == {("fusion", "a"): True, ("ft-fc", "a"): True, ("lwf", "a"): False, ("bad", "a"): False,
                     ("lwf", "b"): True, ("baseline", "b"): False}  # fmt: skip


# ---------------------------------------------------------------- compare
def _pair_results(units: Sequence[int] = (0,)) -> dict[str, Any]:
    n = 200
    spec = {}
    for seed in units:
        base = {"src": correct_vector(n, 160), "tgt": correct_vector(n, 60)}
        spec[(seed, None)] = {
            "baseline": base,
            "rows": {
                ("fusion", "tgt"): {"src": correct_vector(n, 140), "tgt": correct_vector(n, 180)},
                ("ft-fc", "tgt"): {"src": correct_vector(n, 160), "tgt": correct_vector(n, 120)},
            },
        }
    return build_results(spec)


def test_compare_hand_pair() -> None:
    cmp = compare(_pair_results(), "fusion", "ft-fc")
    assert (cmp["a"], cmp["b"], cmp["level"]) == ("fusion", "ft-fc", 0.95)
    (t,) = cmp["targets"]
    assert t["target"] == "tgt" and t["n_units"] == 1
    assert t["target_acc"]["a"] == pytest.approx(0.9) and t["target_acc"]["b"] == pytest.approx(0.6)
    assert t["target_acc"]["diff"] == pytest.approx(0.3)
    assert t["source_acc"]["diff"] == pytest.approx(-0.1)
    assert t["memory_integrity"]["diff"] == pytest.approx(140 / 160 - 1.0)
    lo, hi = t["target_acc"]["ci"]
    assert 0.2 < lo < 0.3 < hi < 0.4
    assert t["source_acc"]["ci"][1] < 0 and t["memory_integrity"]["ci"][1] < 0  # fusion forgot more


def test_compare_is_paired_within_a_unit() -> None:
    n = 500
    shared = correct_vector(n, 300)
    better = shared.copy()
    better[np.flatnonzero(~shared)[:25]] = True  # a: 25 more right, no new errors
    results = build_results({(0, None): {
        "baseline": {"src": correct_vector(n, 400), "tgt": correct_vector(n, 100)},
        "rows": {("a", "tgt"): {"src": correct_vector(n, 400), "tgt": better},
                 ("b", "tgt"): {"src": correct_vector(n, 400), "tgt": shared}},
    }})  # fmt: skip
    (t,) = compare(results, "a", "b")["targets"]
    lo, hi = t["target_acc"]["ci"]
    assert t["target_acc"]["diff"] == pytest.approx(0.05)
    assert lo > 0.02 and hi < 0.08  # unpaired, two 0.085-wide intervals would straddle 0
    w = 1.959964**2 / (n + 1.959964**2)  # issue 20: no difference at all still has the least width
    assert t["source_acc"]["ci"] == pytest.approx([-w, w])


def test_compare_errors_name_what_is_missing() -> None:
    results = _pair_results(units=(0, 1))
    with pytest.raises(ConfigError, match=r"no rows for strategy 'fusoin'.*did you mean 'fusion'"):
        compare(results, "fusoin", "ft-fc")
    with pytest.raises(ConfigError, match="two different"):
        compare(results, "fusion", "fusion")
    del results["rows"][3]  # ft-fc, seed 1
    with pytest.raises(ResultsError, match=r"'ft-fc' has no row for unit\(s\) \(seed 1, fold None\)"):
        compare(results, "fusion", "ft-fc")


def test_compare_over_units_and_without_predictions() -> None:
    cmp = compare(_pair_results(units=(0, 1, 2)), "fusion", "ft-fc", n_boot=200)
    assert cmp["targets"][0]["n_units"] == 3
    old = build_results(
        {(0, None): {"baseline": {"src": [1, 0], "tgt": [0, 1]},
                     "rows": {("x", "tgt"): {"src": [1, 1], "tgt": [1, 1]},
                              ("y", "tgt"): {"src": [1, 0], "tgt": [0, 0]}}}},
        predictions=False,
    )  # fmt: skip
    (t,) = compare(old, "x", "y")["targets"]
    assert t["target_acc"]["diff"] == pytest.approx(1.0) and t["target_acc"]["ci"] is None


# ---------------------------------------------------------------- old runs and bad input
def test_rows_without_predictions_get_null_intervals() -> None:
    base = {"src": correct_vector(50, 40), "tgt": correct_vector(20, 5)}
    rows = {("ft-fc", "tgt"): {"src": correct_vector(50, 30), "tgt": correct_vector(20, 15)}}
    units = {(s, None): {"baseline": base, "rows": rows} for s in (0, 1)}
    results = build_results(units, predictions=False)
    del results["baselines"]  # an old run: only the mean baseline
    out = add_intervals(results)
    assert out["rows"][0]["ci"]["acc"] == {"src": None, "tgt": None}
    assert out["rows"][0]["ci"]["memory_integrity"] is None
    (entry,) = out["summary"]
    assert entry["n_units"] == 2 and entry["ci"]["target_gain"] is None and entry["pareto"] is True
    assert out["baseline"]["ci"] == {"acc": {"src": None, "tgt": None}}


def test_predictions_of_the_wrong_length_are_refused() -> None:
    base = {"src": correct_vector(50, 40), "tgt": correct_vector(20, 5)}
    results = one_unit(
        {("ft-fc", "tgt"): {"src": correct_vector(50, 30), "tgt": correct_vector(20, 15)}}, base
    )
    results["rows"][0]["predictions"]["tgt"] = results["rows"][0]["predictions"]["tgt"][:-1]
    with pytest.raises(ResultsError, match=r"rows\[0\] \(ft-fc -> tgt\): 19 predictions on 'tgt' for 20"):
        add_intervals(results)
    results["rows"][0]["predictions"]["tgt"] = "0" * 19 + "?"
    with pytest.raises(ResultsError, match=r"rows\[0\] predictions\['tgt'\].*'\?' at position 19"):
        add_intervals(results)
