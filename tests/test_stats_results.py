"""``add_intervals`` and ``compare`` on whole results: what each output field holds, for the typed model
and the dict, for old files and for bad ones (the mutation run of ``stats.py``, docs/testing.md)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from test_stats import build_results, correct_vector

from fer_avalanche.errors import ConfigError
from fer_avalanche.metrics import decode_classes, encode_classes
from fer_avalanche.results import Results
from fer_avalanche.stats import MIN_UNITS, ResultsError, add_intervals, compare

N = 40


def _two_seeds(fold=None, fusion_src=30, **extra):
    """Two seeds, two strategies on target ``t``; ``extra`` adds keys to every row."""
    units = {}
    for seed in (0, 1):
        units[(seed, fold)] = {
            "baseline": {"src": correct_vector(N, 30, seed), "t": correct_vector(N, 10, seed)},
            "rows": {
                ("ft-fc", "t"): {"src": correct_vector(N, 28 - seed, seed),
                                 "t": correct_vector(N, 20 + seed, seed)},
                ("fusion", "t"): {"src": correct_vector(N, fusion_src, seed),
                                  "t": correct_vector(N, 24 - seed, seed)},
            },
        }  # fmt: skip
    results = build_results(units)
    for i, row in enumerate(results["rows"]):
        row["macro_f1"] = {d: v / 2 for d, v in row["acc"].items()}
        row["train_time_s"] = 1.0 + i
        row.update(extra)
    return results


# ------------------------------------------------------------------------------------ add_intervals
def test_the_typed_model_gets_the_same_numbers_as_the_dict():
    raw = _two_seeds()
    typed = add_intervals(Results.from_json(raw), n_boot=60, seed=3)
    assert isinstance(typed, Results)
    assert typed.to_json() == Results.from_json(add_intervals(raw, n_boot=60, seed=3)).to_json()
    assert typed.to_json()["intervals"]["n_boot"] == 60 and typed.to_json()["intervals"]["seed"] == 3
    other_seed = add_intervals(Results.from_json(raw), n_boot=60, seed=4).to_json()
    assert other_seed["rows"][0]["ci"] != typed.to_json()["rows"][0]["ci"]  # the seed reaches the draws


def test_n_boot_below_one_is_refused_and_one_is_enough():
    with pytest.raises(ConfigError, match=r"^add_intervals: n_boot must be >= 1, got 0$"):
        add_intervals(_two_seeds(), n_boot=0)
    assert add_intervals(_two_seeds(), n_boot=1)["intervals"]["n_boot"] == 1


def test_the_method_says_how_the_intervals_were_computed():
    assert add_intervals(_two_seeds(), n_boot=20)["intervals"] == {
        "method": "one unit: percentile bootstrap over test images, paired with the unit's baseline, "
        "widened to the Wilson / z^2/(n+z^2) floor; several units (seeds/folds): t-interval over units, "
        "mean +- t(k-1) * sqrt(V / k), V = s^2 + v on one shared test set, max(s^2, v) on a test set "
        "per unit",
        "level": 0.95,
        "n_boot": 20,
        "seed": 0,
    }


def test_every_row_and_baseline_gets_intervals_for_its_own_datasets():
    raw = _two_seeds()
    raw["rows"][0]["acc"].pop("src")  # a row evaluated on the target only
    raw["baselines"][1]["acc"].pop("t")
    out = add_intervals(raw, n_boot=50)
    assert set(out["rows"][0]["ci"]["acc"]) == {"t"} and set(out["rows"][1]["ci"]["acc"]) == {"src", "t"}
    assert {r["ci_scope"] for r in out["rows"]} == {"images"}
    assert set(out["baselines"][0]["ci"]["acc"]) == {"src", "t"} and set(
        out["baselines"][1]["ci"]["acc"]
    ) == {"src"}
    lo, hi = out["baselines"][0]["ci"]["acc"]["src"]
    assert lo < 30 / N < hi
    assert out["baseline"]["ci_scope"] == "units"  # two seeds behind the mean of the baseline


def test_the_datasets_come_from_the_baseline_and_the_rows_when_the_file_lists_none():
    raw = _two_seeds()
    del raw["datasets"]
    raw["baseline"]["acc"] = {"src": 0.75}  # an old file: the baseline mean on the source only
    out = add_intervals(raw, n_boot=50)
    assert list(out["rows"][0]["ci"]["acc"]) == ["src", "t"]  # t from the rows
    assert list(out["summary"][0]["acc"]) == ["src", "t"]


def test_a_file_without_baseline_entries_keeps_none_and_gets_null_baseline_intervals():
    raw = _two_seeds()
    del raw["baselines"]
    out = add_intervals(raw, n_boot=50)
    assert "baselines" not in out
    assert out["rows"][0]["ci"]["acc"]["t"] is None  # no labels to resample
    assert (
        out["baseline"]["ci"] == {"acc": {"src": None, "t": None}} and out["baseline"]["ci_scope"] == "images"
    )


def test_a_row_whose_target_is_the_source_has_no_target_gain_interval():
    raw = _two_seeds()
    for row in raw["rows"]:
        row["target"] = "src"
    out = add_intervals(raw, n_boot=50)
    assert (
        out["rows"][0]["ci"]["target_gain"] is None and out["rows"][0]["ci"]["memory_integrity"] is not None
    )


def test_a_baseline_scoring_zero_on_the_source_gives_no_mi_interval_but_a_drop_interval():
    raw = _two_seeds()
    for b in raw["baselines"]:  # every source prediction of the baseline wrong
        labels = decode_classes(b["labels"]["src"])
        b["predictions"]["src"] = encode_classes((labels + 1) % 7)
    row = add_intervals(raw, n_boot=50)["rows"][0]
    assert row["ci"]["memory_integrity"] is None and row["ci"]["source_drop"] is not None


def test_predictions_of_the_wrong_length_name_the_row_or_the_baseline():
    raw = _two_seeds()
    raw["rows"][2]["predictions"]["t"] = raw["rows"][2]["predictions"]["t"][:-1]
    message = (
        rf"^rows\[2\] \(ft-fc -> t\): {N - 1} predictions on 't' for {N} test labels of unit "
        r"\(seed 1, fold None\); every row of a unit"
    )
    with pytest.raises(ResultsError, match=message):
        add_intervals(raw, n_boot=20)
    raw = _two_seeds()
    raw["baselines"][1]["predictions"]["src"] += "0"
    with pytest.raises(ResultsError, match=r"^baselines\[1\] \(seed 1, fold None\): 41 predictions on 'src'"):
        add_intervals(raw, n_boot=20)


# ------------------------------------------------------------------------------------ summary
def test_a_summary_entry_holds_its_units_and_the_means_of_its_rows():
    out = add_intervals(_two_seeds(fold=3), n_boot=50)
    entry = next(e for e in out["summary"] if e["strategy"] == "ft-fc")
    rows = [r for r in out["rows"] if r["strategy"] == "ft-fc"]
    assert entry["units"] == [{"seed": 0, "fold": 3}, {"seed": 1, "fold": 3}] and entry["n_units"] == 2
    assert entry["acc"] == {d: pytest.approx(np.mean([r["acc"][d] for r in rows])) for d in ("src", "t")}
    assert entry["macro_f1"] == {d: pytest.approx(v / 2) for d, v in entry["acc"].items()}
    assert entry["source_acc"] == entry["acc"]["src"] and entry["target_acc"] == entry["acc"]["t"]
    assert entry["train_time_s"] == pytest.approx(np.mean([r["train_time_s"] for r in rows]))
    assert "step" not in entry and entry["ci_scope"] == "units"


def test_sequential_rows_give_their_step_to_the_summary():
    raw = _two_seeds(step=2)
    assert {e["step"] for e in add_intervals(raw, n_boot=20)["summary"]} == {2}
    raw["rows"][0]["step"] = 1  # one group on two steps: no single step to report
    entry = next(e for e in add_intervals(raw, n_boot=20)["summary"] if e["strategy"] == "ft-fc")
    assert "step" not in entry


def test_without_baseline_entries_the_front_competes_with_the_baseline_mean():
    raw = _two_seeds()
    del raw["baselines"]
    raw["baseline"]["acc"]["t"] = 0.99  # not adapting scores higher on the target than both strategies
    summary = add_intervals(raw, n_boot=20)["summary"]
    # fusion keeps MI 1 (ties the baseline's MI) but learns less: off the front; neither beats MI 1 + 0.99
    assert [e["pareto"] for e in summary] == [False, False]


def test_the_source_as_target_has_no_baseline_point_on_the_front():
    raw = _two_seeds(fusion_src=29)  # both strategies below the baseline on the source
    for row in raw["rows"]:
        row["target"] = "src"
    summary = add_intervals(raw, n_boot=20)["summary"]
    assert any(e["pareto"] for e in summary)  # the baseline (MI 1 on its own source) does not compete


def test_the_baseline_point_of_the_front_has_mi_1():
    raw = _two_seeds()
    for row in raw["rows"]:
        if row["strategy"] == "ft-fc":  # learns less than not adapting, but keeps more than the source had
            row["memory_integrity"], row["acc"]["t"] = 1.5, 0.1
    summary = add_intervals(raw, n_boot=20)["summary"]
    assert [e["pareto"] for e in summary if e["strategy"] == "ft-fc"] == [True]  # MI 1.5 > the baseline's 1


# ------------------------------------------------------------------------------------ compare
def test_compare_names_its_inputs_and_settings():
    out = compare(_two_seeds(), "fusion", "ft-fc", n_boot=30, seed=2)
    assert (out["a"], out["b"], out["source"], out["n_boot"], out["min_units"]) == (
        "fusion",
        "ft-fc",
        "src",
        30,
        MIN_UNITS,
    )
    (target,) = out["targets"]
    assert target["units"] == [{"seed": 0, "fold": None}, {"seed": 1, "fold": None}]
    assert compare(Results.from_json(_two_seeds()), "fusion", "ft-fc", n_boot=30, seed=2) == out  # typed


def test_compare_defaults_are_1000_draws_and_seed_0():
    raw = _two_seeds()
    assert compare(raw, "fusion", "ft-fc")["n_boot"] == 1000
    assert compare(raw, "fusion", "ft-fc") == compare(raw, "fusion", "ft-fc", n_boot=1000, seed=0)


def test_compare_without_predictions_still_gives_the_differences():
    raw = _two_seeds()
    for row in raw["rows"]:
        del row["predictions"]
    mi = compare(raw, "fusion", "ft-fc", n_boot=20)["targets"][0]["memory_integrity"]
    assert mi["diff"] == pytest.approx(mi["a"] - mi["b"]) and mi["ci"] is None and mi["p"] is None


def test_compare_with_a_metric_missing_on_one_side_gives_no_difference():
    raw = _two_seeds()
    for row in raw["rows"]:
        if row["strategy"] == "ft-fc":
            row["memory_integrity"] = None
    mi = compare(raw, "fusion", "ft-fc", n_boot=20)["targets"][0]["memory_integrity"]
    assert mi["b"] is None and mi["diff"] is None


def test_compare_errors_list_the_strategies_and_the_units():
    with pytest.raises(ConfigError, match=r"strategies: ft-fc, fusion\)"):
        compare(_two_seeds(), "ft-fc", "replay")
    empty = _two_seeds()
    empty["rows"] = []
    with pytest.raises(ConfigError, match=r"\(strategies: none\)$"):
        compare(empty, "ft-fc", "replay")
    raw = _two_seeds()
    raw["rows"] = [r for r in raw["rows"] if not (r["strategy"] == "fusion" and r["seed"] == 1)]
    raw["rows"].append({**raw["rows"][0], "seed": 2})
    raw["rows"].append({**raw["rows"][0], "seed": 3})
    message = (
        r"'fusion' has no row for unit\(s\) \(seed 1, fold None\), \(seed 2, fold None\), "
        r"\(seed 3, fold None\) that 'ft-fc' has; a paired comparison needs both strategies on the same "
        r"seeds and folds$"
    )
    with pytest.raises(ResultsError, match=message):
        compare(raw, "fusion", "ft-fc")
    raw = _two_seeds()
    raw["rows"].append(dict(raw["rows"][0]))
    message = r"^compare: rows\[0\] and rows\[4\] are both 'ft-fc' -> 't' on \(seed 0, fold None\); expected"
    with pytest.raises(ResultsError, match=message + r" one row per unit$"):
        compare(raw, "fusion", "ft-fc")


def test_compare_warns_naming_each_target_with_too_few_units():
    raw = _two_seeds()
    extra = copy.deepcopy([r for r in raw["rows"]])
    for row in extra:
        row["target"] = "u"
    raw["rows"] += extra
    (warning,) = compare(raw, "fusion", "ft-fc", n_boot=20)["warnings"]
    assert warning == (
        f"fewer than {MIN_UNITS} units (seeds x folds) back target(s) t (2), u (2): the intervals there "
        "cannot hold the seeds' variance (one unit: test images only); run more seeds before "
        "claiming a difference"
    )


def test_the_datasets_keep_the_files_order_then_the_baselines_then_the_rows():
    raw = _two_seeds()
    raw["baseline"]["acc"] = {"t": 0.25, "src": 0.75}  # another order than "datasets"
    assert list(add_intervals(raw, n_boot=20)["summary"][0]["acc"]) == ["src", "t"]
    del raw["datasets"]
    assert list(add_intervals(raw, n_boot=20)["summary"][0]["acc"]) == ["t", "src"]
    raw["baseline"]["acc"] = {"src": 0.75}
    for row in raw["rows"]:
        row["acc"] = {"t": row["acc"]["t"], "src": row["acc"]["src"]}
    assert list(add_intervals(raw, n_boot=20)["summary"][0]["acc"]) == ["src", "t"]  # src from the baseline


def test_a_baseline_mean_without_the_first_dataset_still_gets_the_others_interval():
    raw = _two_seeds()
    raw["baseline"]["acc"] = {"t": 0.25}
    assert set(add_intervals(raw, n_boot=20)["baseline"]["ci"]["acc"]) == {"t"}


def test_a_class_that_is_not_a_label_is_refused_naming_where():
    raw = _two_seeds()
    raw["baselines"][1]["labels"]["t"] = "?" * N
    with pytest.raises(ResultsError, match=r"^baselines\[1\] \(seed 1, fold None\) labels\['t'\]: "):
        add_intervals(raw, n_boot=20)
    raw = _two_seeds()
    raw["baselines"][0]["predictions"]["src"] = "?" * N
    with pytest.raises(ResultsError, match=r"^baselines\[0\] \(seed 0, fold None\) predictions\['src'\]: "):
        add_intervals(raw, n_boot=20)


def test_compare_names_a_target_one_strategy_lacks():
    raw = _two_seeds()
    extra = [dict(r, target="u") for r in raw["rows"] if r["strategy"] == "fusion"]
    raw["rows"] += extra
    message = r"^compare: strategy 'ft-fc' has no rows for target\(s\) \['u'\] that 'fusion' has$"
    with pytest.raises(ResultsError, match=message):
        compare(raw, "fusion", "ft-fc")


def test_baseline_entries_without_labels_get_null_intervals():
    raw = _two_seeds()
    for b in raw["baselines"]:
        del b["labels"], b["predictions"]
    out = add_intervals(raw, n_boot=20)
    assert out["baselines"][0]["ci"] == {"acc": {"src": None, "t": None}}
    assert out["rows"][0]["ci"]["acc"] == {"src": None, "t": None}
