"""The example scripts stay in step with the API: they compile, name registered strategies, and run.

The slow tests run every script with ``--quick --device cpu`` as ``__main__`` in the test process (one
CPU thread, see conftest) and read what it printed: the before/after table and the memory integrity
line.
"""

import math
import re
import runpy
import sys
from pathlib import Path

import pytest

from fer_avalanche.strategies.registry import list_strategies

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").glob("*.py"))
SCRIPTS = [p for p in EXAMPLES if p.name != "common.py"]
#: Scripts that adapt a source baseline to one target through ``ex.strategy(...)`` (examples/common.py).
CROSS_DATASET = [p for p in SCRIPTS if "ex.strategy(" in p.read_text()]
NUMBER = r"(nan|[-+]?inf|[-+]?\d+\.\d+)"
MI_LINE = re.compile(rf"^(?:(\w+): )?memory integrity = {NUMBER}", re.MULTILINE)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_compiles(path):
    compile(path.read_text(), str(path), "exec")  # raises SyntaxError


def test_one_example_per_strategy_and_each_names_a_registered_strategy():
    names = {re.search(r'ex\.strategy\("([^"]+)"', p.read_text()).group(1) for p in CROSS_DATASET}
    paper = {"ft-fc", "ft-lastconv-fc", "retrain", "retrain-scratch", "fusion", "replay"}
    assert paper | {"lwf", "ewc", "lp-ft", "wise-ft"} <= names
    assert len(names) == len(CROSS_DATASET)  # one script per strategy
    assert names <= set(list_strategies())
    assert "class_incremental.py" in {p.name for p in SCRIPTS}


def run_quick(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> str:
    """Run one example with ``--quick --device cpu`` as ``__main__`` in this process (its imports are
    paid once for all examples) from ``tmp_path``; what it printed."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(path.parent))  # the scripts import examples/common.py
    monkeypatch.setattr(sys, "argv", [str(path), "--quick", "--device", "cpu"])
    capsys.readouterr()
    runpy.run_path(str(path), run_name="__main__")
    return capsys.readouterr().out


def memory_integrities(out: str) -> dict[str | None, float]:
    """``{strategy or None: MI}`` from the ``[<strategy>: ]memory integrity = X.XXX`` lines."""
    found = {m.group(1): float(m.group(2)) for m in MI_LINE.finditer(out)}
    assert found, f"no 'memory integrity = X.XXX' line in:\n{out}"
    return found


@pytest.mark.slow
@pytest.mark.parametrize("path", CROSS_DATASET, ids=lambda p: p.name)
def test_cross_dataset_example_runs_and_prints_its_table_and_memory_integrity(
    path, tmp_path, monkeypatch, capsys
):
    out = run_quick(path, tmp_path, monkeypatch, capsys)
    assert re.search(r"^dataset\s+baseline\s+adapted$", out, re.MULTILINE), out
    table = {
        m.group(1): (float(m.group(2)), float(m.group(3)))
        for m in re.finditer(r"^(synth-[\w-]+)\s+(\d\.\d{3})\s+(\d\.\d{3})$", out, re.MULTILINE)
    }
    assert set(table) == {"synth-wild", "synth-lab-a"}, out
    mi = memory_integrities(out)
    assert list(mi) == [None], out  # exactly one line, for the one strategy
    value = mi[None]
    assert math.isfinite(value) and value > 0, out
    before, after = table["synth-wild"]
    assert value == pytest.approx(after / before, abs=0.01), out  # MI is the source row's after / before
    assert before >= 0.3, out  # the --quick baseline learned: clearly above the chance of 1/7


@pytest.mark.slow
def test_class_incremental_example_shows_replay_keeping_more_of_the_first_experience(
    tmp_path, monkeypatch, capsys
):
    out = run_quick(REPO / "examples" / "class_incremental.py", tmp_path, monkeypatch, capsys)
    mi = memory_integrities(out)
    assert set(mi) == {"naive", "replay"}, out
    assert all(math.isfinite(v) and v >= 0 for v in mi.values()), out
    assert mi["replay"] > 0 and mi["replay"] > mi["naive"], out
    for name in ("naive", "replay"):
        assert re.search(rf"^{name}: accuracy matrix R", out, re.MULTILINE), out
        assert re.search(rf"^{name}: average accuracy = {NUMBER}\s+forgetting = {NUMBER}", out, re.MULTILINE)
    rows = re.findall(
        r"^(happy\+sad|surprise\+neutral|angry\+disgust\+fear)((?:\s+\d\.\d{3}){3})$", out, re.M
    )
    assert len(rows) == 6, out  # a 3 x 3 matrix per strategy
