"""The run directory's rules: resume, overwrite (never a stale cell), refusal; no training."""

import warnings

import pytest

from fer_avalanche.errors import ConfigError
from fer_avalanche.experiment.plan import Cell
from fer_avalanche.experiment.store import RunStore

CELL = Cell("ft-fc", ("lab-a",), 0)


def _finished(tmp_path):
    store = RunStore(tmp_path / "run")
    store.open("name = 'a'\n", resume=False, overwrite=False)
    store.write_cell(CELL, {"key": {"adapt": {"epochs": 1}}, "steps": []})
    (store.run_dir / "results.json").write_text("{}")
    store.checkpoint_path(Cell("naive", ("a", "b"), 0, None, "sequence")).parent.mkdir(parents=True)
    store.checkpoint_path(Cell("naive", ("a", "b"), 0, None, "sequence")).write_bytes(b"old")
    return store


def test_a_finished_run_is_not_touched_without_resume_or_overwrite(tmp_path):
    store = _finished(tmp_path)
    with pytest.raises(ConfigError, match="already exists"):
        RunStore(store.run_dir).open("name = 'b'\n", resume=False, overwrite=False)
    assert (store.run_dir / "results.json").read_text() == "{}"


def test_overwrite_clears_the_old_runs_cells_checkpoints_and_results(tmp_path):
    store = _finished(tmp_path)
    RunStore(store.run_dir).open("name = 'b'\n", resume=False, overwrite=True)
    assert not store.cell_path(CELL).exists()
    assert not list(store.run_dir.rglob("*.pt")) and not (store.run_dir / "results.json").exists()
    assert (store.run_dir / "scenario.toml").read_text() == "name = 'b'\n"
    assert not list(store.run_dir.glob(".replaced-*"))


def test_resume_needs_the_same_scenario(tmp_path):
    store = _finished(tmp_path)
    with pytest.raises(ConfigError, match="different scenario"):
        RunStore(store.run_dir).open("name = 'b'\n", resume=True, overwrite=False)
    RunStore(store.run_dir).open("name = 'a'\n", resume=True, overwrite=False)
    with pytest.raises(ConfigError, match="nothing to resume"):
        RunStore(tmp_path / "empty").open("name = 'a'\n", resume=True, overwrite=False)


def test_a_cell_is_read_back_only_for_the_settings_that_produced_it(tmp_path):
    store = _finished(tmp_path)
    assert store.read_cell(CELL, {"adapt": {"epochs": 1}}) is not None
    with pytest.warns(UserWarning, match=r"made with other settings \(differs in: adapt\)"):
        assert store.read_cell(CELL, {"adapt": {"epochs": 5}}) is None
    store.cell_path(CELL).write_text("{truncated")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert store.read_cell(CELL, {"adapt": {"epochs": 1}}) is None  # damaged: recomputed silently
