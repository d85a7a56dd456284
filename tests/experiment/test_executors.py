"""Executors: a local Dask cluster gives the serial run's numbers, survives a killed worker, and a
killed client resumes; user errors inside a worker read like serial ones.

The kills are planted at known points (:mod:`fer_avalanche.experiment.faults`), never after a sleep.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import psutil
import pytest
from _experiment_helpers import tiny

from fer_avalanche.config import scenario_to_toml
from fer_avalanche.errors import ConfigError
from fer_avalanche.experiment import TIMING_KEYS, run_scenario
from fer_avalanche.experiment.executors import make_executor

pytestmark = pytest.mark.slow

NAMES = "strategies.names=['ft-fc', 'retrain', 'replay']"


def _rows(results):
    return [{k: v for k, v in r.items() if k not in TIMING_KEYS} for r in results["rows"]]


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    root = tmp_path_factory.mktemp("serial")
    run = run_scenario(tiny(NAMES), out=root / "run", device="cpu", cache_dir=root / "cache", threads=1)
    return run


def test_local_executor_gives_rows_identical_to_serial(serial, tmp_path):
    run = run_scenario(
        tiny(NAMES),
        out=tmp_path / "run",
        device="cpu",
        cache_dir=tmp_path / "cache",
        executor="local",
        workers=2,
        threads=1,
    )
    assert run.results["environment"]["executor"] == "local"
    assert _rows(run.results) == _rows(serial.results)
    assert sorted(p.name for p in (tmp_path / "run" / "cells").iterdir()) == sorted(
        p.name for p in (serial.run_dir / "cells").iterdir()
    )


def test_a_worker_killed_mid_cell_is_survived_with_identical_results(serial, tmp_path, monkeypatch):
    # the first worker to start a cell SIGKILLs itself (once over all processes: the marker file)
    marker = tmp_path / "fault-fired"
    monkeypatch.setenv("FER_AVALANCHE_FAULT", "start-cell:1")
    monkeypatch.setenv("FER_AVALANCHE_FAULT_ONCE", str(marker))
    run = run_scenario(
        tiny(NAMES),
        out=tmp_path / "run",
        device="cpu",
        cache_dir=tmp_path / "cache",
        executor="local",
        workers=2,
        threads=1,
    )
    assert marker.exists(), "no worker reached the planted fault"
    victim = int(marker.read_text())
    assert victim != os.getpid()  # a worker died, not this process
    assert not psutil.pid_exists(victim) or psutil.Process(victim).status() == psutil.STATUS_ZOMBIE
    assert _rows(run.results) == _rows(serial.results)  # the lost cell was retried elsewhere
    assert len(list((tmp_path / "run" / "cells").glob("*.json"))) == len(_rows(serial.results))


def test_a_user_error_inside_a_worker_is_the_same_clear_error(tmp_path):
    scenario = tiny(NAMES, "strategies.options.replay.selection='best-ones'")  # refused when built
    with pytest.raises(ConfigError, match="selection must be one of"):
        run_scenario(
            scenario,
            out=tmp_path / "run",
            device="cpu",
            cache_dir=tmp_path / "c",
            executor="local",
            workers=1,
        )


def test_dask_executor_needs_a_scheduler_address():
    with pytest.raises(ConfigError, match="--scheduler"):
        make_executor("dask")
    with pytest.raises(ConfigError, match="unknown executor 'lcoal'; did you mean 'local'"):
        make_executor("lcoal")


def test_resume_after_the_client_was_killed_skips_finished_cells(serial, tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(scenario_to_toml(tiny(NAMES)))
    out = tmp_path / "victim"
    cmd = [
        sys.executable,
        "-m",
        "fer_avalanche.cli",
        "run",
        str(path),
        "--out",
        str(out),
        "--device",
        "cpu",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--quiet",
        "--no-tensorboard",
        "--executor",
        "local",
        "--workers",
        "2",
        "--threads",
        "1",
    ]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    # the client SIGKILLs itself right after writing its second cell file
    proc = subprocess.Popen(
        cmd,
        env=dict(env, FER_AVALANCHE_FAULT="after-cell:2"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert proc.wait(timeout=600) == -signal.SIGKILL
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the orphaned workers of the dead client
    except ProcessLookupError:
        pass
    finished = {p.name: p.stat().st_mtime_ns for p in (out / "cells").glob("*.json")}
    assert len(finished) == 2 and not (out / "results.json").exists()
    resumed = subprocess.run([*cmd, "--resume"], env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert {
        p.name: p.stat().st_mtime_ns for p in (out / "cells").glob("*.json") if p.name in finished
    } == finished
    assert _rows(json.loads((out / "results.json").read_text())) == _rows(serial.results)


def test_overwrite_with_changed_settings_under_the_local_executor_recomputes_every_cell(serial, tmp_path):
    import shutil

    out = tmp_path / "run"
    shutil.copytree(serial.run_dir, out)  # a finished run with adapt.epochs = 1
    changed = tiny(NAMES, "adapt.epochs=2")
    kwargs = dict(device="cpu", threads=1, tensorboard=False)
    again = run_scenario(
        changed, out=out, cache_dir=tmp_path / "c", overwrite=True, executor="local", workers=2, **kwargs
    )
    fresh = run_scenario(changed, out=tmp_path / "fresh", cache_dir=tmp_path / "c2", **kwargs)
    assert _rows(again.results) == _rows(fresh.results)
    assert _rows(again.results) != _rows(serial.results)


def test_a_local_cluster_listens_on_127_0_0_1_only_and_leaves_port_8787_alone(recwarn):
    import socket

    taken = socket.socket()
    try:
        taken.bind(("127.0.0.1", 8787))  # another cluster's dashboard, say
        taken.listen()
    except OSError:
        pass  # already taken by something else: the same situation
    try:
        with make_executor("local", workers=1) as executor:
            listening = [
                c.laddr
                for c in psutil.Process().net_connections(kind="inet")
                if c.status == psutil.CONN_LISTEN
            ]
    finally:
        taken.close()
    assert executor.cluster.scheduler.address.startswith("tcp://127.0.0.1:")
    assert listening and all(addr.ip == "127.0.0.1" for addr in listening), listening
    assert [str(w.message) for w in recwarn if "already in use" in str(w.message)] == []


def test_a_sweep_gives_identical_rows_serial_and_local(tmp_path):
    import dataclasses

    scenario = tiny(
        "strategies.names=['ft-fc', 'fusion']",
        "sweep.values.adapt.budget=['steps', 'target_passes']",
        "sweep.values.strategies.options.fusion.target_fraction=[0.25, 0.5]",
    )
    scenario = dataclasses.replace(scenario, targets=scenario.targets[:1])
    runs = {
        executor: run_scenario(
            scenario,
            out=tmp_path / executor / "run",
            device="cpu",
            cache_dir=tmp_path / executor / "cache",
            executor=executor,
            workers=2,
            threads=1,
        )
        for executor in ("serial", "local")
    }
    assert len(runs["serial"].results["rows"]) == 8
    assert _rows(runs["local"].results) == _rows(runs["serial"].results)
    assert {r["variant"]["adapt.budget"] for r in runs["local"].results["rows"]} == {"steps", "target_passes"}
