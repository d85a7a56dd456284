"""Memory integrity on both sides of its boundaries: above 1 (the source improved), exactly 1, and a
baseline accuracy of zero (undefined) against a tiny positive one (defined), for the function and for
the rows of ``results.json``."""

import math

import numpy as np
import pytest

from fer_avalanche.experiment.plan import Cell
from fer_avalanche.experiment.records import BaselineRecord, CellRecord, StepRecord, build_results
from fer_avalanche.metrics import memory_integrity, summarize_confusion


@pytest.mark.parametrize(
    ("after", "base", "mi", "drop"),
    [(0.9, 0.6, 1.5, -0.3), (0.6, 0.6, 1.0, 0.0), (0.3, 0.6, 0.5, 0.3), (0.5, 1e-6, 0.5 / 1e-6, 1e-6 - 0.5)],
)
def test_memory_integrity_is_the_plain_ratio_above_and_below_one(after, base, mi, drop):
    r = memory_integrity({"src": after, "t": 0.5}, {"src": base, "t": 0.2}, "src")
    assert r["memory_integrity"] == pytest.approx(mi)  # never capped at 1: a better source is > 1
    assert r["source_drop"] == pytest.approx(drop)
    assert r["target_gain"] == pytest.approx({"t": 0.3})


def test_memory_integrity_is_undefined_only_at_a_zero_baseline():
    assert math.isnan(memory_integrity({"src": 0.5}, {"src": 0.0}, "src")["memory_integrity"])
    assert math.isnan(memory_integrity({"src": 0.5}, {"src": math.nan}, "src")["memory_integrity"])
    assert memory_integrity({"src": 0.0}, {"src": 0.5}, "src")["memory_integrity"] == 0.0


def _eval(right: int, n: int = 10):
    result = summarize_confusion([[right, n - right], [0, 0]])
    result.labels = np.zeros(n, dtype=np.int64)
    result.predictions = np.array([0] * right + [1] * (n - right))
    return result


def test_a_row_whose_source_improved_reports_memory_integrity_above_one():
    evaluations = {None: {"src": _eval(4), "t1": _eval(2)}}
    base = BaselineRecord(0, {"k": 1}, b"", "c.pt", True, evaluations=evaluations)
    record = CellRecord(
        Cell("fusion", ("t1",), 0), {"k": 2}, [StepRecord("t1", {"src": _eval(5), "t1": _eval(9)})]
    )
    (row,) = build_results("pairwise", "x", ["src", "t1"], ["a", "b"], [0], [base], [record]).to_json()[
        "rows"
    ]
    assert row["memory_integrity"] == pytest.approx(1.25)
    assert row["source_drop"] == pytest.approx(-0.1) and row["target_gain"] == pytest.approx(0.7)
