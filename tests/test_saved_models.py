"""Saved models (``save_models``), ``fer-avalanche evaluate``, and the loggers by name.

One tiny run through the command line (about 15 s on a quiet 2-core CPU: the tests that use it are
marked slow) (``--save-models``, ``loggers = ["csv", "text"]``) is shared
by the tests of this file; the resume/overwrite tests work on copies of it (the baseline is cached).
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
import types
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent / "data" / "formats"))
from fixtures import write_format_fixture  # noqa: E402

from fer_avalanche import load_model  # noqa: E402
from fer_avalanche.cli import main  # noqa: E402
from fer_avalanche.config import Scenario, scenario_to_toml  # noqa: E402
from fer_avalanche.errors import CheckpointError, ConfigError  # noqa: E402
from fer_avalanche.models.saved import read_model_info, sidecar_path  # noqa: E402

TINY = [
    "source.n=280",
    "targets.lab-a.n=140",
    "targets.lab-b.n=140",
    "model.width=4",
    "train.epochs=1",
    "adapt.epochs=6",  # retrain at a high rate: the target's predictions differ image by image
    "adapt.lr=0.01",
    "adapt.batch_size=16",
    "strategies.names=['baseline', 'retrain']",
    "strategies.options={}",
    "loggers=['csv', 'text']",
]


def _scenario(*extra: str) -> Scenario:
    return Scenario.demo().with_overrides([*TINY, *extra])


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("saved")
    scenario = tmp / "s.toml"
    scenario.write_text(scenario_to_toml(_scenario()))
    argv = ["run", str(scenario), "--out", str(tmp / "out"), "--cache-dir", str(tmp / "cache")]
    assert main([*argv, "--quiet", "--device", "cpu", "--save-models"]) == 0
    return tmp / "out"


def _results(run_dir: Path) -> dict:
    return json.loads((run_dir / "results.json").read_text())


def _row(run_dir: Path, strategy: str, target: str) -> dict:
    return next(r for r in _results(run_dir)["rows"] if r["strategy"] == strategy and r["target"] == target)


def _evaluate(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    capsys.readouterr()
    assert main(["evaluate", *argv, "--json", "--n-boot", "50"]) == 0
    return json.loads(capsys.readouterr().out)


# ------------------------------------------------------------------------------------ files
@pytest.mark.slow
def test_a_model_file_per_seed_baseline_and_adapted_cell(run: Path) -> None:
    names = sorted(p.name for p in (run / "models").glob("*.pt"))
    # baseline cells train nothing: their network is the seed's baseline file
    assert names == ["baseline__wild__s0.pt", "retrain__lab-a__s0.pt", "retrain__lab-b__s0.pt"]
    info = read_model_info(run / "models" / "retrain__lab-a__s0.pt")
    cell = json.loads((run / "cells" / "retrain__lab-a__s0.json").read_text())
    assert info["key"] == cell["key"]
    assert (info["arch"], info["options"], info["label_names"][3]) == ("fernet", {"width": 4}, "happy")
    assert info["preprocessing"]["image_size"] == 48 and info["dataset"]["name"] == "lab-a"
    state = torch.load(run / "models" / "retrain__lab-a__s0.pt", weights_only=True)
    assert isinstance(state, dict) and all(isinstance(v, torch.Tensor) for v in state.values())


@pytest.mark.slow
def test_load_model_is_the_adapted_network_in_eval_mode(run: Path) -> None:
    adapted = load_model(run / "models" / "retrain__lab-a__s0.pt")
    baseline = load_model(run / "models" / "baseline__wild__s0.pt")
    assert not adapted.training and adapted.fer_info["name"] == "retrain__lab-a__s0"
    x = torch.rand(2, 1, 48, 48)
    assert adapted(x).shape == (2, 7)
    assert not torch.equal(adapted(x), baseline(x))  # retrained


# --------------------------------------------------------------------------------- evaluate
@pytest.mark.slow
def test_evaluate_reproduces_the_rows_accuracy_and_confusion(run: Path, capsys) -> None:
    predicted: set[str] = set()  # over both retrain cells: a tiny model may predict one class on one
    for strategy, target in (("retrain", "lab-a"), ("retrain", "lab-b"), ("baseline", "lab-a")):
        row = _row(run, strategy, target)
        result = _evaluate(capsys, str(run), "--strategy", strategy, "--target", target)
        if strategy == "baseline":  # the seed's baseline, on its own (source) dataset's test split
            assert result["dataset"]["name"] == "wild"
            assert result["acc"] == row["acc"]["wild"]
            continue
        assert result["dataset"] == {**result["dataset"], "name": target, "split": "test", "as_in_run": True}
        assert result["acc"] == row["acc"][target]
        assert result["confusion"] == row["confusion"][target]
        assert result["predictions"] == row["predictions"][target]  # image by image
        predicted |= set(result["predictions"])
        lo, hi = result["ci"]["acc"]
        assert lo <= result["acc"] <= hi
    assert len(predicted) > 1  # so "image by image" compared more than one constant answer


@pytest.mark.slow
def test_evaluate_a_file_on_a_jaffe_folder(run: Path, tmp_path: Path, capsys) -> None:
    name, root = write_format_fixture("jaffe", tmp_path / "jaffe")
    out = tmp_path / "figs"
    model = str(run / "models" / "retrain__lab-b__s0.pt")
    result = _evaluate(capsys, model, name, str(root), "--split", "all", "--out", str(out))
    assert result["dataset"]["format"] == "jaffe" and result["dataset"]["n"] == 3
    # the JAFFE fixture holds happy, sad and angry: the other four of the model's classes are said
    assert result["classes_present"] == ["angry", "happy", "sad"]
    assert set(result["classes_absent"]) == {"disgust", "fear", "surprise", "neutral"}
    assert sum(map(sum, result["confusion"])) == 3
    assert result["per_class_acc"]["fear"] is None
    assert Path(result["confusion_png"]).is_file() and Path(result["confusion_png"]).parent == out
    argv = [str(run), "--strategy", "retrain", "--target", "lab-b", name, str(root)]  # NAME ROOT last
    assert main(["evaluate", *argv, "--split", "all", "--n-boot", "20"]) == 0
    text = capsys.readouterr().out
    assert "3 of the model's 7 classes" in text and "accuracy" in text and "recall per class" in text


@pytest.mark.slow
@pytest.mark.parametrize(
    "case, expected",
    [
        ("missing", ["no such model file"]),
        ("foreign", ["not a fer-avalanche model"]),
        ("foreign-sidecar", ["not a fer-avalanche model sidecar"]),
        ("other-weights", ["do not match"]),
        ("wrong-folder", ["empty", "no JAFFE images found"]),
        ("no-test-split", ["no test images", "--split all"]),
        ("run-dir-without-target", ["--strategy", "--target"]),
    ],
)
def test_bad_evaluate_inputs_one_error_line_exit_2(run: Path, tmp_path: Path, capsys, case, expected) -> None:
    model = tmp_path / "m.pt"
    good = run / "models" / "retrain__lab-a__s0.pt"
    argv = [str(model)]
    if case == "foreign":
        torch.save({"weight": torch.zeros(3)}, model)
    elif case == "foreign-sidecar":
        torch.save({"weight": torch.zeros(3)}, model)
        sidecar_path(model).write_text('{"arch": "fernet"}')
    elif case == "other-weights":
        shutil.copy(good, model)
        shutil.copy(sidecar_path(run / "models" / "retrain__lab-b__s0.pt"), sidecar_path(model))
    elif case == "wrong-folder":
        shutil.copy(good, model)
        shutil.copy(sidecar_path(good), sidecar_path(model))
        (tmp_path / "empty").mkdir()
        argv += ["jaffe", str(tmp_path / "empty")]
    elif case == "no-test-split":
        name, root = write_format_fixture("jaffe", tmp_path / "jaffe")
        argv = [str(good), name, str(root)]
    elif case == "run-dir-without-target":
        argv = [str(run)]
    capsys.readouterr()
    assert main(["evaluate", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    for part in expected:
        assert part in err[0]


def test_load_model_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"m\.pt: no such model file"):
        load_model(tmp_path / "m.pt")
    torch.save({"w": torch.zeros(1)}, tmp_path / "m.pt")
    with pytest.raises(CheckpointError, match=r"m\.pt: not a fer-avalanche model \(no m\.json"):
        load_model(tmp_path / "m.pt")


# ---------------------------------------------------------------------------------- loggers
@pytest.mark.slow
def test_csv_and_text_loggers_hold_our_scalars(run: Path) -> None:
    results = _results(run)
    with open(run / "csv" / "metrics.csv") as fh:
        metrics = {(r["name"], int(r["x"])): float(r["value"]) for r in csv.DictReader(fh)}
    with open(run / "csv" / "eval_results.csv") as fh:
        evals = list(csv.DictReader(fh))
    text = (run / "log.txt").read_text()
    assert (run / "csv" / "training_results.csv").read_text().startswith("training_exp,epoch")
    for row in results["rows"]:
        cell = f"{row['strategy']}__{row['target']}__s0"
        assert metrics[(f"FER/{cell}/memory_integrity", 1)] == row["memory_integrity"]
        assert metrics[(f"FER/{cell}/target_gain/{row['target']}", 1)] == row["target_gain"]
        for dataset, acc in row["acc"].items():
            assert metrics[(f"FER/{cell}/acc/{dataset}", 1)] == acc
            line = next(e for e in evals if e["eval_exp"] == dataset and e["training_exp"].startswith(cell))
            assert float(line["eval_accuracy"]) == pytest.approx(acc, abs=5e-5)  # Avalanche's 4 decimals
        assert f"FER/{cell}/memory_integrity = {row['memory_integrity']:.4f}" in text
    assert metrics[("FER/baseline__wild__s0/acc/wild", 0)] == results["baselines"][0]["acc"]["wild"]
    assert not (run / "tb").exists()  # not among this scenario's loggers


def test_unknown_logger_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"loggers\.0: unknown logger 'csvv'; did you mean 'csv'"):
        _scenario("loggers=['csvv']")


def test_wandb_missing_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fer_avalanche.experiment.loggers import make_run_loggers

    monkeypatch.setitem(sys.modules, "wandb", None)  # import wandb -> ImportError
    with pytest.raises(ConfigError, match=r'pip install -e "\.\[wandb\]"'):
        make_run_loggers(["wandb"], tmp_path, _scenario())


def test_wandb_logger_is_offline_in_the_run_dir(tmp_path: Path, monkeypatch) -> None:
    from fer_avalanche.experiment.loggers import make_run_loggers
    from fer_avalanche.experiment.records import BaselineRecord
    from fer_avalanche.metrics import summarize_confusion

    calls: dict[str, list] = {"init": [], "log": []}
    fake = types.ModuleType("wandb")
    fake.__version__ = "0"
    fake.util = types.SimpleNamespace(generate_id=lambda: "id0")
    fake.run = types.SimpleNamespace(_label=lambda **kw: None)
    fake.viz = types.SimpleNamespace(CustomChart=type("CustomChart", (), {}))
    fake.init = lambda **kw: calls["init"].append(kw)
    fake.log = lambda values, step=None: calls["log"].append((values, step))
    fake.finish = lambda: None
    monkeypatch.setitem(sys.modules, "wandb", fake)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    (logger,) = make_run_loggers(["wandb"], tmp_path, _scenario())
    record = BaselineRecord(seed=0, key={}, state=b"", checkpoint="", reused=True)
    record.evaluations = {None: {"wild": summarize_confusion([[3, 1], [0, 4]])}}
    logger.baseline(record, "wild")
    record.seed = 1
    logger.baseline(record, "wild")
    logger.close()
    import os

    assert os.environ["WANDB_MODE"] == "offline" and calls["init"][0]["mode"] == "offline"
    assert Path(calls["init"][0]["dir"]) == tmp_path / "wandb"
    assert ({"FER/baseline__wild__s0/acc/wild": 0.875}, 0) in calls["log"]
    assert ({"FER/baseline__wild__s1/acc/wild": 0.875}, 1) in calls["log"]  # W&B's steps go forward


# ----------------------------------------------------------------------- resume / overwrite
def _copy(run: Path, tmp: Path) -> Path:
    shutil.copytree(run.parent / "cache", tmp / "cache")
    return Path(shutil.copytree(run, tmp / "out"))


@pytest.mark.slow
def test_resume_keeps_a_model_only_under_the_same_key(run: Path, tmp_path: Path) -> None:
    from fer_avalanche.experiment import run_scenario

    out = _copy(run, tmp_path)
    models = out / "models"
    kept = (models / "retrain__lab-b__s0.pt").stat().st_mtime_ns
    side = sidecar_path(models / "retrain__lab-a__s0.pt")
    stale = json.loads(side.read_text())
    stale["key"]["adapt"]["lr"] = 0.5  # a model written under other settings
    side.write_text(json.dumps(stale))
    torch.save({}, models / "lwf__lab-a__s0.pt")  # a file no cell of this run owns
    done: list[str] = []
    run_scenario(
        _scenario("save_models=true"),
        out=out,
        device="cpu",
        resume=True,
        cache_dir=tmp_path / "cache",
        on_cell_done=lambda row: done.append(f"{row['strategy']}__{row['target']}"),
    )
    assert done == ["retrain__lab-a"]  # its model was stale: the cell ran again; the others were reused
    assert (
        read_model_info(models / "retrain__lab-a__s0.pt")["key"]
        == json.loads((out / "cells" / "retrain__lab-a__s0.json").read_text())["key"]
    )
    assert (models / "retrain__lab-b__s0.pt").stat().st_mtime_ns == kept
    assert not (models / "lwf__lab-a__s0.pt").exists()
    assert _row(out, "retrain", "lab-a")["acc"] == _row(run, "retrain", "lab-a")["acc"]  # deterministic


@pytest.mark.slow
def test_overwrite_removes_the_old_models(run: Path, tmp_path: Path) -> None:
    from fer_avalanche.experiment import run_scenario

    out = _copy(run, tmp_path)
    scenario = _scenario("strategies.names=['baseline']", "save_models=false")
    run_scenario(scenario, out=out, device="cpu", overwrite=True, cache_dir=tmp_path / "cache")
    assert not (out / "models").exists()
    assert sorted(p.name for p in (out / "cells").iterdir()) == [
        "baseline__lab-a__s0.json",
        "baseline__lab-b__s0.json",
    ]
