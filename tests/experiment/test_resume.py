"""A run killed with SIGKILL partway and resumed gives the results of an uninterrupted run.

The kill is planted at a known point (:mod:`fer_avalanche.experiment.faults`: the run SIGKILLs itself
right after its N-th cell file or step checkpoint), so the outcome does not depend on the machine's
speed: no sleep, no race with the run's end.
"""

import json
import os
import signal
import subprocess
import sys

import pytest
import torch

from fer_avalanche.config import Scenario, scenario_to_toml
from fer_avalanche.experiment import TIMING_KEYS

pytestmark = pytest.mark.slow


def _comparable(run_dir):
    results = json.loads((run_dir / "results.json").read_text())
    rows = [{k: v for k, v in r.items() if k not in TIMING_KEYS} for r in results["rows"]]
    return results["baseline"]["acc"], rows


def _killed_at(fault, cmd, env):
    """Run ``cmd`` with the fault ``fault`` planted; assert it really died of SIGKILL there."""
    proc = subprocess.run(cmd, env=dict(env, FER_AVALANCHE_FAULT=fault), capture_output=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stderr[-2000:])


def _cmd(scenario, out, cache, *extra):
    return [
        sys.executable,
        "-m",
        "fer_avalanche.cli",
        "run",
        str(scenario),
        "--out",
        str(out),
        "--cache-dir",
        str(cache),
        "--device",
        "cpu",
        "--quiet",
        "--no-tensorboard",
        *extra,
    ]


def test_sigkilled_run_resumes_to_identical_results(tmp_path):
    scenario = Scenario.demo().with_overrides(
        [
            "source.n=350",
            "targets.lab-a.n=140",
            "targets.lab-b.n=140",
            "model.width=4",
            "train.epochs=1",
            "adapt.epochs=2",
            "strategies.names=['ft-fc','retrain','replay','fusion']",
            "strategies.options={}",
        ]
    )
    path = tmp_path / "tiny.toml"
    path.write_text(scenario_to_toml(scenario))
    env = dict(os.environ, PYTHONUNBUFFERED="1")

    reference = tmp_path / "reference"
    subprocess.run(_cmd(path, reference, tmp_path / "cache-ref"), check=True, env=env, capture_output=True)

    victim = tmp_path / "victim"
    _killed_at("after-cell:2", _cmd(path, victim, tmp_path / "cache-victim"), env)
    assert len(list((victim / "cells").glob("*.json"))) == 2  # killed right after the second cell
    assert not (victim / "results.json").exists() and not list(victim.glob("checkpoints/*.pt"))

    rerun = subprocess.run(
        _cmd(path, victim, tmp_path / "cache-victim"), env=env, capture_output=True, text=True
    )
    assert rerun.returncode == 2 and "--resume" in rerun.stderr  # an unfinished run is never overwritten

    resumed = subprocess.run(
        _cmd(path, victim, tmp_path / "cache-victim", "--resume"), env=env, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    assert _comparable(victim) == _comparable(reference)
    assert not list(victim.rglob("*.tmp"))  # no temporary file left behind


def test_sigkilled_sequence_resumes_from_its_last_step(tmp_path):
    """Killed between two targets of a sequence: the resumed run starts from the step checkpoint."""
    scenario = Scenario.demo().with_overrides(
        [
            "mode='sequential'",
            "source.n=350",
            "targets.lab-a.n=140",
            "targets.lab-b.n=280",
            "model.width=4",
            "train.epochs=1",
            "adapt.epochs=3",
            "strategies.names=['replay']",
            "strategies.options={}",
        ]
    )
    path = tmp_path / "seq.toml"
    path.write_text(scenario_to_toml(scenario))
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    reference = tmp_path / "reference"
    subprocess.run(_cmd(path, reference, tmp_path / "cache"), check=True, env=env, capture_output=True)
    assert not list(reference.glob("checkpoints/*.pt"))

    victim = tmp_path / "victim"
    checkpoint = victim / "checkpoints" / "replay__sequence__s0.pt"
    _killed_at("after-checkpoint:1", _cmd(path, victim, tmp_path / "cache"), env)
    assert checkpoint.exists() and not (victim / "cells" / "replay__sequence__s0.json").exists()
    saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    assert len(saved["steps"]) == 1  # killed between the first and the second target

    resumed = subprocess.run(
        _cmd(path, victim, tmp_path / "cache", "--resume"), env=env, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    assert _comparable(victim) == _comparable(reference)
    results = json.loads((victim / "results.json").read_text())
    expected = json.loads((reference / "results.json").read_text())
    assert results["sequences"] == expected["sequences"]
    assert not checkpoint.exists() and not list(victim.rglob("*.tmp"))
