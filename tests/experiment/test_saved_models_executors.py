"""Saved models under the local Dask executor: the weights come back from the worker with the record
and the client writes them, bit-identical to the serial run's (same threads per cell)."""

from __future__ import annotations

import json

import pytest
from _experiment_helpers import tiny

from fer_avalanche.experiment import run_scenario

pytestmark = pytest.mark.slow

SETTINGS = ("strategies.names=['baseline', 'ft-fc']", "save_models=true", "loggers=['csv']")


def _models(run_dir):
    return {p.name: json.loads(p.read_text())["sha256"] for p in (run_dir / "models").glob("*.json")}


def test_local_workers_send_the_weights_back_bit_identical_to_serial(tmp_path):
    kwargs = {"device": "cpu", "cache_dir": tmp_path / "cache", "threads": 1}
    serial = run_scenario(tiny(*SETTINGS), out=tmp_path / "serial", **kwargs)
    local = run_scenario(tiny(*SETTINGS), out=tmp_path / "local", executor="local", workers=1, **kwargs)
    assert local.results["environment"]["executor"] == "local"
    expected = ["baseline__wild__s0.json", "ft-fc__lab-a__s0.json", "ft-fc__lab-b__s0.json"]
    assert sorted(_models(serial.run_dir)) == expected
    assert _models(local.run_dir) == _models(serial.run_dir)
    assert (local.run_dir / "csv" / "metrics.csv").read_text() == (
        serial.run_dir / "csv" / "metrics.csv"
    ).read_text()
