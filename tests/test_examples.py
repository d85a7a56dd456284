"""The example scripts stay in step with the API: they compile and name registered strategies."""

import py_compile
import re
from pathlib import Path

import pytest

from fer_avalanche.strategies.registry import list_strategies

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))
SCRIPTS = [p for p in EXAMPLES if p.name != "common.py"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_compiles(path):
    py_compile.compile(str(path), doraise=True)


def test_one_example_per_paper_strategy_and_each_names_a_registered_strategy():
    names = {re.search(r'ex\.strategy\("([^"]+)"', p.read_text()).group(1) for p in SCRIPTS}
    assert {"ft-fc", "ft-lastconv-fc", "retrain", "retrain-scratch", "fusion", "replay"} <= names
    assert names <= set(list_strategies())
