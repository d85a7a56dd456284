"""The speed benchmarks run and print what they promise (tiny sizes; nothing here asserts a speed)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RATIO = re.compile(r"ratio=\d+(\.\d+)?$")


@pytest.mark.slow
def test_run_all_smoke_prints_one_ratio_per_comparison_then_the_device() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run_all.py"), "--quick", "--smoke", "--device", "cpu"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert lines[-1].startswith("device: cpu ("), lines
    body = lines[:-1]
    for prefix in ("training", "data pipeline", "eval", "fer2013 load"):
        assert any(line.startswith(prefix) for line in body), f"no {prefix!r} line in {body}"
    # training, eval: >= 1 line; data pipeline: workers 0 and 2; fer2013 (a tiny generated CSV in smoke)
    assert len(body) >= 5, body
    for line in body:
        assert RATIO.search(line), f"line does not end with ratio=<number>: {line!r}"


@pytest.mark.slow
def test_coverage_benchmark_smoke_prints_the_table_and_its_verdict() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_coverage.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:3] == ["quantity", "unit", "SD"]
    for quantity in ("MI", "target gain", "diff target", "diff MI", "ceiling acc"):
        assert any(line.startswith(quantity) and "t + images" in line for line in lines), quantity
    assert any(line.startswith("chosen: t + images: least coverage at 5 units") for line in lines)
