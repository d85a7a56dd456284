"""Records -> results.json rows and sequences, from hand-made evaluations (no training)."""

import numpy as np
import pytest

from fer_avalanche.experiment.plan import Cell
from fer_avalanche.experiment.records import (
    BaselineRecord,
    CellRecord,
    StepRecord,
    build_results,
    eval_from_dict,
    eval_to_dict,
)
from fer_avalanche.metrics import summarize_confusion


def _eval(right: int, n: int = 10):
    """An evaluation with ``right`` of ``n`` correct (2 classes), with per-sample outputs."""
    result = summarize_confusion([[right, n - right], [0, 0]])
    result.labels = np.zeros(n, dtype=np.int64)
    result.predictions = np.array([0] * right + [1] * (n - right))
    return result


BASE = BaselineRecord(
    0, {"k": 1}, b"", "ckpt.pt", True, evaluations={None: {"src": _eval(8), "t1": _eval(2), "t2": _eval(3)}}
)


def test_a_pairwise_row_holds_mi_drop_and_gain_against_its_baseline():
    record = CellRecord(
        Cell("ft-fc", ("t1",), 0), {"k": 2}, [StepRecord("t1", {"src": _eval(6), "t1": _eval(7)})]
    )
    results = build_results("pairwise", "x", ["src", "t1"], ["a", "b"], [0], [BASE], [record]).to_json()
    (row,) = results["rows"]
    assert row["acc"] == {"src": 0.6, "t1": 0.7}
    assert row["memory_integrity"] == pytest.approx(0.6 / 0.8)
    assert row["source_drop"] == pytest.approx(0.2) and row["target_gain"] == pytest.approx(0.5)
    assert row["predictions"]["t1"] == "0000000111"
    assert results["baselines"][0]["labels"]["src"] == "0" * 10
    assert results["baseline"]["acc"] == {"src": 0.8, "t1": 0.2, "t2": 0.3}


def test_a_sequence_gives_one_row_per_step_and_its_accuracy_matrix():
    steps = [
        StepRecord("t1", {"src": _eval(6), "t1": _eval(9), "t2": _eval(4)}),
        StepRecord("t2", {"src": _eval(5), "t1": _eval(7), "t2": _eval(8)}),
    ]
    record = CellRecord(Cell("naive", ("t1", "t2"), 0, None, "sequence"), {}, steps)
    results = build_results(
        "sequential", "x", ["src", "t1", "t2"], ["a", "b"], [0], [BASE], [record]
    ).to_json()
    assert [(r["target"], r["step"]) for r in results["rows"]] == [("t1", 1), ("t2", 2)]
    (seq,) = results["sequences"]
    assert seq["matrix"] == [[0.8, 0.2, 0.3], [0.6, 0.9, 0.4], [0.5, 0.7, 0.8]]
    # forgetting over src (trained at row 0) and t1 (row 1): ((0.8 - 0.5) + (0.9 - 0.7)) / 2
    assert seq["forgetting"] == pytest.approx(0.25) and seq["bwt"] == pytest.approx(-0.25)
    assert seq["average_accuracy"] == pytest.approx((0.5 + 0.7 + 0.8) / 3)


def test_records_round_trip_through_json():
    step = StepRecord(
        "t1", {"src": _eval(6)}, budget={"steps": 3, "target_passes": 1.5, "source_samples": 0, "epochs": 1}
    )
    record = CellRecord(Cell("ft-fc", ("t1",), 1, 2), {"k": 1}, [step])
    back = CellRecord.from_dict(record.to_dict())
    assert back.cell == record.cell and back.steps[0].budget == step.budget
    assert back.steps[0].evaluation["src"].acc == 0.6
    assert np.array_equal(eval_from_dict(eval_to_dict(_eval(6))).predictions, _eval(6).predictions)
