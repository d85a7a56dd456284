"""The command line's success paths: list, run a bundled scenario by name, report (re-render)."""

from __future__ import annotations

import json

import pytest

from fer_avalanche.cli import main
from fer_avalanche.config import bundled_scenarios

TINY = [
    "--set", "source.n=280", "--set", "targets.lab-a.n=140", "--set", "targets.lab-b.n=140",
    "--set", "model.width=4", "--set", "train.epochs=1", "--set", "adapt.epochs=1",
    "--set", "strategies.names=['baseline','ft-fc']",
]  # fmt: skip


@pytest.mark.parametrize(
    ("what", "expected"),
    [
        (
            "strategies",
            [
                "ft-fc",
                "ft-lastconv-fc",
                "retrain",
                "retrain-scratch",
                "fusion",
                "replay",
                "joint",
                "lp-ft",
                "wise-ft",
            ],
        ),
        ("formats", ["fer2013", "ferplus", "jaffe", "ckplus", "tfeid", "mug", "rafdb", "affectnet", "kdef"]),
        ("domains", ["wild", "lab-a", "lab-b", "lab-c"]),
        ("scenarios", ["demo", "paper", "sequential", "class_incremental"]),
    ],
)
def test_list_prints_every_registered_name(capsys, what, expected):
    assert main(["list", what]) == 0
    first_words = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert set(expected) <= set(first_words)


def test_bundled_scenarios_are_the_repositorys_files():
    assert {"demo", "paper", "sequential", "class_incremental"} <= set(bundled_scenarios())


@pytest.mark.slow
def test_run_demo_by_name_then_report_rerenders_it(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a bundled scenario is found from any directory
    out = tmp_path / "run"
    argv = ["run", "demo", "--out", str(out), "--cache-dir", str(tmp_path / "cache"), "--device", "cpu"]
    assert main([*argv, "--quiet", *TINY]) == 0
    printed = capsys.readouterr().out
    assert "| ft-fc | lab-a |" in printed and f"Run directory: {out}" in printed
    results = json.loads((out / "results.json").read_text())
    assert results["scenario"] == "demo" and {r["strategy"] for r in results["rows"]} == {"baseline", "ft-fc"}
    (out / "results.md").unlink()
    (out / "tradeoff.png").unlink()
    assert main(["report", str(out)]) == 0
    assert (out / "results.md").read_text().startswith("# Results: demo")
    assert (out / "tradeoff.png").stat().st_size > 0
    assert main(["report", str(out), "--compare", "ft-fc", "baseline"]) == 0
    assert "lab-a" in capsys.readouterr().out


def test_run_without_a_scenario_is_the_demo(monkeypatch):
    seen = {}
    import fer_avalanche.experiment as experiment

    def fake_run(scenario, **kwargs):
        seen["scenario"], seen["kwargs"] = scenario, kwargs
        raise SystemExit(0)

    monkeypatch.setattr(experiment, "run_scenario", fake_run)
    with pytest.raises(SystemExit, match="^0$"):  # fake_run's exit, not an argparse error (2)
        main(["run", "--quiet", "--executor", "local", "--workers", "3"])
    assert seen["scenario"].name == "demo"
    assert seen["kwargs"]["executor"] == "local" and seen["kwargs"]["workers"] == 3
    assert seen["kwargs"]["progress"] is False
