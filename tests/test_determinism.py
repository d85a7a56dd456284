"""``deterministic = true`` reaches torch: in this process and inside every task, restored after."""

from __future__ import annotations

import os

import pytest
import torch

from fer_avalanche.config import Scenario, scenario_to_toml
from fer_avalanche.experiment import tasks
from fer_avalanche.experiment.keys import baseline_key
from fer_avalanche.utils import determinism


def _flags():
    return (
        torch.backends.cudnn.benchmark,
        torch.backends.cudnn.deterministic,
        torch.are_deterministic_algorithms_enabled(),
        os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
    )


@pytest.fixture
def restore_flags():
    before = _flags()
    yield before
    torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = before[0], before[1]
    torch.use_deterministic_algorithms(before[2])
    assert _flags() == before


def test_determinism_sets_the_flags_and_restores_them(restore_flags, monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    torch.backends.cudnn.benchmark = True
    with determinism(True, "cpu"):
        assert _flags() == (False, True, True, ":4096:8")
    assert _flags() == (True, restore_flags[1], False, None)
    with determinism(False, "cpu"):  # the default changes nothing on a CPU
        assert _flags() == (True, restore_flags[1], False, None)


def test_deterministic_true_reaches_torch_inside_a_task(restore_flags, monkeypatch):
    seen = []
    monkeypatch.setattr(tasks, "train_or_load_baseline", lambda *a, **k: seen.append(_flags()) or "record")
    for deterministic in (True, False):
        scenario = Scenario.demo().with_overrides([f"deterministic={str(deterministic).lower()}"])
        result = tasks.baseline_task(scenario_to_toml(scenario), "cpu", "/nonexistent-cache", 0, {None: []})
        assert result == "record"
    assert [flags[2] for flags in seen] == [True, False]  # use_deterministic_algorithms, per scenario
    assert seen[0][:2] == (False, True)
    assert not torch.are_deterministic_algorithms_enabled()


def test_deterministic_runs_have_their_own_baseline_key_and_the_default_keeps_old_keys():
    from fer_avalanche.data.synthetic import make_domain

    data = make_domain("wild", n=70, seed=0)
    plain = baseline_key(Scenario.demo(), data, 0, "cpu")
    fast = baseline_key(Scenario.demo().with_overrides(["deterministic=true"]), data, 0, "cpu")
    assert "deterministic" not in plain and fast["deterministic"] is True
    assert {"patience_steps", "monitor"}.isdisjoint(plain["train"])  # new settings at their defaults
