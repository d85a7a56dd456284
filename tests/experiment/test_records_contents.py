"""What every field of a record becomes in ``cells/*.json`` and in ``results.json``, by hand.

Each value below is distinct, so a field written under another key, dropped, swapped with another or
replaced by its default fails a test (the mutation run of ``experiment/records.py``, docs/testing.md).
"""

import numpy as np
import pytest

from fer_avalanche.experiment.plan import Cell
from fer_avalanche.experiment.records import (
    ZERO_BUDGET,
    BaselineRecord,
    CellRecord,
    StepRecord,
    build_results,
    eval_from_dict,
    eval_to_dict,
)
from fer_avalanche.metrics import summarize_confusion
from fer_avalanche.results import ReportError


def _eval(right: int, n: int = 10, *, outputs: bool = True):
    """``right`` of ``n`` correct (2 classes); with per-sample labels and predictions if ``outputs``."""
    result = summarize_confusion([[right, n - right], [0, 0]])
    if outputs:
        result.labels = np.zeros(n, dtype=np.int64)
        result.predictions = np.array([0] * right + [1] * (n - right))
    return result


BUDGET = {"steps": 7, "target_passes": 2.5, "source_samples": 11, "epochs": 3}
CURVE = [{"epoch": 1, "step": 4, "val": 0.25}, {"epoch": 2, "step": 8, "val": 0.5}]
HISTORY = [{"epoch": 1, "loss": 1.5}, {"epoch": 2, "loss": 0.75}]
SELECTION = {"select": "best_val", "monitor": "target_val", "patience": 2, "patience_steps": None}


def _full_step(target: str = "t1") -> StepRecord:
    return StepRecord(
        target,
        {"src": _eval(6), target: _eval(7)},
        budget=dict(BUDGET),
        curve=list(CURVE),
        selected_epoch=2,
        history=list(HISTORY),
        train_time_s=1.23456,
        selection=dict(SELECTION),
        extra={"alpha": 0.4, "target_absent": ["neutral"], "strategy": "not-the-cells", "acc": 0.0},
    )


def _baseline(seed: int = 0) -> BaselineRecord:
    return BaselineRecord(
        seed,
        {"k": seed},
        b"",
        f"base{seed}.pt",
        seed % 2 == 0,
        train_time_s=9.87654,
        budget={"steps": 40 + seed, "target_passes": 0.0, "source_samples": 0, "epochs": 5},
        curve=[{"epoch": 5, "val": 0.125}],
        selected_epoch=4,
        history=[{"epoch": 1, "loss": 2.0}],
        evaluations={None: {"src": _eval(8), "t1": _eval(2), "t2": _eval(3)}},
    )


# ------------------------------------------------------------------------------------ cells/*.json
def test_a_step_record_keeps_every_field_through_json():
    step = _full_step()
    raw = step.to_dict()
    assert raw["train_time_s"] == 1.235  # rounded to the millisecond
    assert {k: raw[k] for k in ("budget", "curve", "selected_epoch", "history", "selection", "extra")} == {
        "budget": BUDGET,
        "curve": CURVE,
        "selected_epoch": 2,
        "history": HISTORY,
        "selection": SELECTION,
        "extra": step.extra,
    }
    back = StepRecord.from_dict(raw)
    assert (back.target, back.budget, back.curve, back.selected_epoch) == ("t1", BUDGET, CURVE, 2)
    assert (back.history, back.selection, back.extra) == (HISTORY, SELECTION, step.extra)
    assert back.train_time_s == 1.235
    assert {d: eval_to_dict(r) for d, r in back.evaluation.items()} == raw["evaluation"]


def test_a_step_record_written_before_the_optional_fields_reads_with_their_defaults():
    back = StepRecord.from_dict({"target": "t1", "evaluation": {"src": eval_to_dict(_eval(6))}})
    assert back.budget == ZERO_BUDGET and back.curve == [] and back.history == []
    assert back.selected_epoch is None and back.selection == {} and back.extra == {}
    assert back.train_time_s == 0.0
    nulls = {"target": "t1", "evaluation": {}, "budget": None, "curve": None, "history": None,
             "selection": None, "extra": None}  # fmt: skip
    back = StepRecord.from_dict(nulls)
    assert (back.budget, back.curve, back.history, back.selection, back.extra) == (
        ZERO_BUDGET,
        [],
        [],
        {},
        {},
    )


def test_an_evaluation_without_per_sample_outputs_reads_without_them():
    back = eval_from_dict(eval_to_dict(_eval(6, outputs=False)))
    assert back.labels is None and back.predictions is None and back.acc == 0.6
    full = eval_from_dict(eval_to_dict(_eval(6)))
    assert np.array_equal(full.labels, np.zeros(10)) and full.predictions.tolist() == [0] * 6 + [1] * 4


def test_a_cell_record_keeps_its_cell_key_and_steps_through_json():
    cell = Cell("ft-fc", ("t1", "t2"), 3, 1, "sequence", (("adapt.lr", 0.5),))
    record = CellRecord(cell, {"k": 4}, [_full_step("t1"), _full_step("t2")])
    back = CellRecord.from_dict(record.to_dict())
    assert back.cell == cell and back.key == {"k": 4}
    assert [s.target for s in back.steps] == ["t1", "t2"] and back.steps[1].budget == BUDGET


def test_a_baseline_summary_holds_its_facts_and_no_weights():
    assert _baseline(2).summary() == {
        "seed": 2,
        "checkpoint": "base2.pt",
        "reused": True,
        "train_time_s": 9.877,
        "budget": {"steps": 42, "target_passes": 0.0, "source_samples": 0, "epochs": 5},
        "curve": [{"epoch": 5, "val": 0.125}],
        "selected_epoch": 4,
    }


def test_a_baseline_evaluation_prefers_the_folds_entry_then_the_fold_free_one():
    base = _baseline(0)
    base.evaluations = {None: {"src": _eval(8), "t1": _eval(1)}, 2: {"t1": _eval(5)}}
    assert {d: r.acc for d, r in base.evaluation_for(["src", "t1"], 2).items()} == {"src": 0.8, "t1": 0.5}
    assert {d: r.acc for d, r in base.evaluation_for(["src", "t1"], 0).items()} == {"src": 0.8, "t1": 0.1}
    assert {d: r.acc for d, r in base.evaluation_for(["t1", "nope"], None).items()} == {"t1": 0.1}
    base.evaluations = {1: {"t1": _eval(5)}}  # folds only (no fold-free entry): a name it lacks is left out
    assert {d: r.acc for d, r in base.evaluation_for(["src", "t1"], 1).items()} == {"t1": 0.5}


# ------------------------------------------------------------------------------------ results.json
def _results(cells, baselines=None, **kwargs):
    baselines = baselines or [_baseline(0)]
    seeds = [b.seed for b in baselines]
    return build_results(
        kwargs.pop("mode", "pairwise"),
        "scn",
        ["src", "t1", "t2"],
        ["a", "b"],
        seeds,
        baselines,
        cells,
        **kwargs,
    ).to_json()


def test_a_row_holds_every_field_of_its_cell_and_step():
    cell = Cell("ft-fc", ("t1",), 0, 2, "pairwise", (("adapt.lr", 0.5),))
    (row,) = _results([CellRecord(cell, {}, [_full_step()])])["rows"]
    assert (row["strategy"], row["target"], row["seed"], row["fold"]) == ("ft-fc", "t1", 0, 2)
    assert row["variant"] == {"adapt.lr": 0.5}
    assert (row["budget"], row["curve"], row["selected_epoch"]) == (BUDGET, CURVE, 2)
    assert row["monitor"] == "target_val" and row["train_time_s"] == 1.235
    assert row["n"] == {"src": 10, "t1": 10} and row["macro_f1"]["t1"] == pytest.approx(
        eval_to_dict(_eval(7))["macro_f1"]
    )
    assert row["per_class_acc"]["t1"] == eval_to_dict(_eval(7))["per_class_acc"]
    assert row["confusion"]["t1"] == [[7, 3], [0, 0]]
    assert row["target_gain"] == pytest.approx(0.5)
    # a step's extra entries join the row, but never replace what the row computes
    assert row["alpha"] == 0.4 and row["target_absent"] == ["neutral"]
    assert row["strategy"] == "ft-fc" and row["acc"] == {"src": 0.6, "t1": 0.7}


def test_a_row_without_a_baseline_for_its_target_has_no_target_gain():
    base = _baseline(0)
    base.evaluations = {None: {"src": _eval(8)}}
    (row,) = _results([CellRecord(Cell("ft-fc", ("t1",), 0), {}, [_full_step()])], [base])["rows"]
    assert row["target_gain"] is None and row["memory_integrity"] == pytest.approx(0.75)


def test_the_results_header_names_the_run():
    cells = [
        CellRecord(Cell("ft-fc", ("t1",), 0, 1), {}, [_full_step()]),
        CellRecord(Cell("ft-fc", ("t1",), 0, None), {}, [_full_step()]),
        CellRecord(Cell("ft-fc", ("t1",), 0, 0), {}, [_full_step()]),
    ]
    base = _baseline(0)
    base.evaluations = {f: {"src": _eval(8), "t1": _eval(2)} for f in (None, 0, 1)}
    results = _results(cells, [base])
    assert (results["scenario"], results["mode"], results["source"]) == ("scn", "pairwise", "src")
    assert results["datasets"] == ["src", "t1", "t2"] and results["label_names"] == ["a", "b"]
    assert results["seeds"] == [0]
    assert results["folds"] == [None, 0, 1]  # None first, then the folds in order
    assert results["absent_classes"] == {"t1": ["neutral"]}  # from the rows' target_absent


def test_sequences_name_their_cell_and_order():
    steps = [_full_step("t1"), _full_step("t2")]
    for s, (a, b) in zip(steps, ((9, 4), (7, 8)), strict=True):
        s.evaluation = {"src": _eval(5), "t1": _eval(a), "t2": _eval(b)}
    cell = Cell("naive", ("t1", "t2"), 0, 1, "sequence", (("adapt.lr", 0.5),))
    base = _baseline(0)
    base.evaluations[1] = {"t1": _eval(1)}  # fold 1's own split of t1; src and t2 from the fold-free entry
    results = _results([CellRecord(cell, {}, steps)], [base], mode="sequential")
    assert results["mode"] == "sequential"
    (seq,) = results["sequences"]
    assert (seq["strategy"], seq["seed"], seq["fold"]) == ("naive", 0, 1)
    assert seq["matrix"][0] == [0.8, 0.1, 0.3]  # row 0: the baseline of the cell's fold
    assert seq["order"] == ["src", "t1", "t2"] and seq["variant"] == {"adapt.lr": 0.5}
    assert [r["step"] for r in results["rows"]] == [1, 2]


def test_the_baseline_entries_and_summary_hold_each_seed_and_fold():
    b0, b1 = _baseline(0), _baseline(1)
    b0.evaluations = {0: {"src": _eval(8), "t1": _eval(2)}, 1: {"src": _eval(6), "t1": _eval(4)}}
    b1.evaluations = {
        0: {"src": _eval(4), "t1": _eval(6, outputs=False)},
        1: {"src": _eval(2), "t1": _eval(8)},
    }
    cells = [CellRecord(Cell("ft-fc", ("t1",), s, f), {}, [_full_step()]) for s in (0, 1) for f in (0, 1)]
    results = _results(cells, [b0, b1])
    entries = results["baselines"]
    assert [(e["seed"], e["fold"]) for e in entries] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert [e["acc"]["src"] for e in entries] == [0.8, 0.6, 0.4, 0.2]
    assert [e["checkpoint"] for e in entries] == ["base0.pt", "base0.pt", "base1.pt", "base1.pt"]
    assert [e["reused"] for e in entries] == [True, True, False, False]
    assert entries[0]["budget"]["steps"] == 40 and entries[2]["budget"]["steps"] == 41
    assert entries[0]["train_time_s"] == 9.877 and entries[0]["selected_epoch"] == 4
    assert entries[0]["curve"] == [{"epoch": 5, "val": 0.125}]
    assert entries[0]["labels"] == {"src": "0" * 10, "t1": "0" * 10}
    assert "labels" not in entries[2]  # one dataset without per-sample labels: none recorded
    assert all("variants" not in e for e in entries)  # no sweep
    summary = results["baseline"]
    assert summary["source"] == "src"
    assert summary["acc"] == {"src": pytest.approx(0.5), "t1": pytest.approx(0.5)}  # mean of 4 entries
    assert summary["confusion"]["src"] == [[8, 2], [0, 0]]  # the first entry's
    assert summary["per_class_acc"]["t1"] == eval_to_dict(_eval(2))["per_class_acc"]
    # per seed: the entry of the first fold (the other folds' evaluations are in ``baselines``)
    assert summary["per_seed"] == {
        "0": {"acc": {"src": 0.8, "t1": 0.2}, "checkpoint": "base0.pt", "reused": True},
        "1": {"acc": {"src": 0.4, "t1": 0.6}, "checkpoint": "base1.pt", "reused": False},
    }


def test_a_baseline_serving_only_some_variants_of_a_sweep_lists_them():
    shared, own = _baseline(0), _baseline(0)
    own.checkpoint = "own.pt"
    fast, slow, tiny = (("adapt.lr", 0.5),), (("adapt.lr", 0.1),), (("adapt.lr", 0.01),)
    cells = [
        CellRecord(Cell("ft-fc", ("t1",), 0, None, "pairwise", fast), {}, [_full_step()]),
        CellRecord(Cell("ft-fc", ("t1",), 0, None, "pairwise", slow), {}, [_full_step()]),
        CellRecord(Cell("ft-fc", ("t1",), 0, None, "pairwise", tiny), {}, [_full_step()]),
    ]
    of = {cells[0].cell: 0, cells[1].cell: 0, cells[2].cell: 1}
    results = _results(cells, [shared, own], baseline_of=of)
    assert [e.get("variants") for e in results["baselines"]] == [
        [{"adapt.lr": 0.5}, {"adapt.lr": 0.1}],
        [{"adapt.lr": 0.01}],
    ]
    rows = results["rows"]
    assert [r["variant"] for r in rows] == [{"adapt.lr": 0.5}, {"adapt.lr": 0.1}, {"adapt.lr": 0.01}]
    # a baseline serving every variant lists none
    every = {c.cell: 0 for c in cells}
    assert all("variants" not in e for e in _results(cells, [shared, own], baseline_of=every)["baselines"])


def test_a_baseline_of_a_seed_serves_every_variant_without_a_baseline_map():
    # seed 1 ran only one of the two variants (an unfinished sweep): still its baseline serves them all
    cells = [
        CellRecord(Cell("ft-fc", ("t1",), 0, None, "pairwise", (("adapt.lr", 0.5),)), {}, [_full_step()]),
        CellRecord(Cell("ft-fc", ("t1",), 0, None, "pairwise", (("adapt.lr", 0.1),)), {}, [_full_step()]),
        CellRecord(Cell("ft-fc", ("t1",), 1, None, "pairwise", (("adapt.lr", 0.5),)), {}, [_full_step()]),
    ]
    assert all("variants" not in e for e in _results(cells, [_baseline(0), _baseline(1)])["baselines"])


def test_a_record_the_results_model_cannot_hold_is_named_by_its_key():
    step = _full_step()
    step.budget = {"steps": "many"}
    with pytest.raises(ReportError, match=r"^results: rows\[0\]\.budget\.steps: expected an integer"):
        _results([CellRecord(Cell("ft-fc", ("t1",), 0), {}, [step])])
