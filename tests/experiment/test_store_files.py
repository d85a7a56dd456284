"""The run directory's files, checked for their content: what ``overwrite`` clears and what it keeps,
what an empty or new directory gets, checkpoints written and refused, cells read back or not."""

from __future__ import annotations

import json
import signal
import warnings
from pathlib import Path

import pytest
import torch

from fer_avalanche.errors import CheckpointError, ConfigError
from fer_avalanche.experiment.plan import Cell
from fer_avalanche.experiment.store import RunStore, load_checkpoint, save_checkpoint

CELL = Cell("ft-fc", ("lab-a",), 0)
SEQUENCE = Cell("naive", ("a", "b"), 0, None, "sequence")

#: every output of a run (README, "The run directory"): files, and folders with a file inside
OUTPUT_FILES = [
    "results.json",
    "results.csv",
    "results.md",
    "tradeoff.png",
    "accuracy_matrix.png",
    "log.txt",
    "datasets.json",
    "environment.json",
    "curves_lab-a.png",
    "tradeoff__lr=0.1.png",
    "accuracy_matrix__lr=0.1.png",
]
OUTPUT_FOLDERS = ["confusion", "tb", "models", "csv", "wandb", "cells", "checkpoints"]


def _full_run(tmp_path: Path) -> RunStore:
    store = RunStore(tmp_path / "run")
    store.open("name = 'a'\n", resume=False, overwrite=False)
    for name in OUTPUT_FILES:
        (store.run_dir / name).write_text("old")
    for name in OUTPUT_FOLDERS:
        (store.run_dir / name).mkdir(exist_ok=True)
        (store.run_dir / name / "old.bin").write_text("old")
    return store


def test_overwrite_clears_every_output_of_the_old_run_and_keeps_the_users_own_files(tmp_path: Path) -> None:
    store = _full_run(tmp_path)
    (store.run_dir / "notes.txt").write_text("mine")
    (store.run_dir / "curves.txt").write_text("mine too")
    (store.run_dir / ".replaced-deadbeef").mkdir()  # left by a run killed while clearing
    (store.run_dir / ".replaced-deadbeef" / "results.json").write_text("old")
    RunStore(store.run_dir).open("name = 'b'\n", resume=False, overwrite=True)
    left = sorted(p.name for p in store.run_dir.iterdir())
    assert left == ["curves.txt", "notes.txt", "scenario.toml"]
    assert (store.run_dir / "notes.txt").read_text() == "mine"
    assert (store.run_dir / "scenario.toml").read_text() == "name = 'b'\n"


def test_resume_keeps_every_file_of_the_run(tmp_path: Path) -> None:
    store = _full_run(tmp_path)
    before = sorted(p.relative_to(store.run_dir).as_posix() for p in store.run_dir.rglob("*"))
    RunStore(store.run_dir).open("name = 'a'\n", resume=True, overwrite=True)  # resume wins: nothing cleared
    assert sorted(p.relative_to(store.run_dir).as_posix() for p in store.run_dir.rglob("*")) == before
    assert (store.run_dir / "results.json").read_text() == "old"


def test_an_existing_empty_directory_and_a_new_nested_one_are_used_as_they_are(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    RunStore(empty).open("name = 'a'\n", resume=False, overwrite=False)
    assert [p.name for p in empty.iterdir()] == ["scenario.toml"]
    nested = tmp_path / "runs" / "2026" / "demo"
    RunStore(nested).open("name = 'a'\n", resume=False, overwrite=True)
    assert (nested / "scenario.toml").read_text() == "name = 'a'\n"


def test_refusals_name_the_directory_and_say_what_to_do(tmp_path: Path) -> None:
    store = _full_run(tmp_path)
    with pytest.raises(
        ConfigError,
        match=r"run: run directory already exists and is not empty; use --resume to continue it, "
        r"--overwrite to replace it, or choose another --out$",
    ):
        store.check("name = 'a'\n", resume=False, overwrite=False)
    with pytest.raises(
        ConfigError,
        match=r"scenario\.toml: the run directory holds a different scenario; resume with the same scenario "
        r"and --set values, or choose another --out$",
    ):
        store.check("name = 'b'\n", resume=True, overwrite=False)
    (store.run_dir / "scenario.toml").unlink()
    (store.run_dir / "scenario.toml").mkdir()  # not a file: nothing to resume either
    with pytest.raises(
        ConfigError, match=r"run: nothing to resume \(no scenario\.toml\); run without --resume first$"
    ):
        store.check("name = 'a'\n", resume=True, overwrite=False)


def test_write_json_and_write_cell_write_what_they_are_given(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "run")
    store.open("name = 'a'\n", resume=False, overwrite=False)
    store.write_json("datasets.json", [{"name": "lab-a", "root": Path("/data/x")}])
    assert json.loads((store.run_dir / "datasets.json").read_text()) == [{"name": "lab-a", "root": "/data/x"}]
    save_checkpoint(store.checkpoint_path(SEQUENCE), {"model": {"w": torch.ones(2)}})
    store.write_cell(SEQUENCE, {"key": {"a": 1}, "steps": [1, 2]})
    assert json.loads(store.cell_path(SEQUENCE).read_text()) == {"key": {"a": 1}, "steps": [1, 2]}
    assert store.cell_path(SEQUENCE) == store.run_dir / "cells" / f"{SEQUENCE.name}.json"
    assert not store.checkpoint_path(SEQUENCE).exists()  # the finished sequence's checkpoint is dropped
    assert store.checkpoint_path(SEQUENCE) == store.run_dir / "checkpoints" / f"{SEQUENCE.name}.pt"


def test_a_checkpoint_round_trips_on_the_cpu(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "c.pt"
    save_checkpoint(path, {"model": {"w": torch.arange(3.0)}, "step": 2})
    state = load_checkpoint(path, "sequence")
    assert state["step"] == 2 and torch.equal(state["model"]["w"], torch.arange(3.0))
    assert state["model"]["w"].device.type == "cpu"
    assert [p.name for p in path.parent.iterdir()] == ["c.pt"]  # no temporary file left


class _Pickled:
    """Not a tensor, a dict or a number: a checkpoint holding it is refused (``weights_only``)."""


def test_bad_checkpoints_are_refused_naming_the_file_and_what_is_wrong(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(
        CheckpointError,
        match=r"(?s)corrupt\.pt: cannot load sequence checkpoint \(\w+: .*\); delete it to recompute$",
    ):
        load_checkpoint(corrupt, "sequence")
    pickled = tmp_path / "pickled.pt"
    torch.save({"model": _Pickled()}, pickled)
    with pytest.raises(
        CheckpointError, match=r"pickled\.pt: cannot load baseline checkpoint \(UnpicklingError"
    ):
        load_checkpoint(pickled, "baseline")
    other = tmp_path / "other.pt"
    save_checkpoint(other, {"weights": {}})
    with pytest.raises(
        CheckpointError, match=r"other\.pt: not a fer-avalanche sequence checkpoint \(no 'model' entry\)$"
    ):
        load_checkpoint(other, "sequence")
    with pytest.raises(CheckpointError, match=r"no 'state' entry"):
        load_checkpoint(other, "sequence", required="state")
    assert load_checkpoint(other, "sequence", required="weights") == {"weights": {}}
    listed = tmp_path / "list.pt"
    save_checkpoint(listed, ["model"])  # "model" in a list is not a checkpoint's entry
    with pytest.raises(CheckpointError, match=r"no 'model' entry"):
        load_checkpoint(listed, "sequence")


def test_a_cell_without_a_key_is_recomputed_with_a_warning(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "run")
    store.open("name = 'a'\n", resume=False, overwrite=False)
    assert store.read_cell(CELL, {"a": 1}) is None  # absent: no warning needed
    store.write_cell(CELL, {"steps": []})
    with pytest.warns(
        UserWarning, match=r"\.json: made with other settings \(differs in: key\); recomputing it$"
    ):
        assert store.read_cell(CELL, {"a": 1}) is None
    store.write_cell(CELL, ["not", "a", "record"])
    with pytest.warns(UserWarning, match=r"differs in: key\)"):
        assert store.read_cell(CELL, {"a": 1}) is None
    store.write_cell(CELL, {"key": {"a": 1, "b": 2}, "steps": [3]})
    with pytest.warns(UserWarning, match=r"differs in: b\)"):
        assert store.read_cell(CELL, {"a": 1}) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert store.read_cell(CELL, {"a": 1, "b": 2}) == {"key": {"a": 1, "b": 2}, "steps": [3]}


def test_the_warning_lists_every_setting_that_differs(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "run")
    store.open("name = 'a'\n", resume=False, overwrite=False)
    store.write_cell(CELL, {"key": {"a": 1, "b": 2, "c": 3}})
    with pytest.warns(UserWarning, match=r"differs in: a, b, d\); recomputing it$"):
        assert store.read_cell(CELL, {"a": 2, "c": 3, "d": 4}) is None


class _Killed(Exception):
    """Raised in place of the SIGKILL the fault hook sends."""


def test_a_planted_fault_fires_right_after_the_nth_cell_file_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from collections import Counter

    from fer_avalanche.experiment import faults

    def kill(pid, sig):
        raise _Killed(sig)

    monkeypatch.setattr(faults.os, "kill", kill)
    monkeypatch.setattr(faults, "_COUNTS", Counter())
    monkeypatch.setenv(faults.ENV, "after-cell:2")
    store = RunStore(tmp_path / "run")
    store.open("name = 'a'\n", resume=False, overwrite=False)
    store.write_cell(CELL, {"key": {}})  # the first: goes on
    save_checkpoint(store.checkpoint_path(SEQUENCE), {"model": {}})
    with pytest.raises(_Killed, match=rf"^{int(signal.SIGKILL)}$|SIGKILL"):  # the signal it sent
        store.write_cell(SEQUENCE, {"key": {"n": 2}})
    assert json.loads(store.cell_path(SEQUENCE).read_text()) == {"key": {"n": 2}}  # written before the kill
    assert not store.checkpoint_path(SEQUENCE).exists()
