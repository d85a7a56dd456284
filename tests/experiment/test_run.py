"""End-to-end: run_scenario on tiny synthetic data, its run directory, reuse, resume and overwrite."""

import json

import pytest
from _experiment_helpers import tiny

from fer_avalanche.experiment import TIMING_KEYS, run_scenario

pytestmark = pytest.mark.slow


def comparable(results):
    rows = [{k: v for k, v in row.items() if k not in TIMING_KEYS} for row in results["rows"]]
    return {"baseline": results["baseline"]["acc"], "rows": rows, "sequences": results["sequences"]}


@pytest.fixture(scope="module")
def pairwise_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("pairwise")
    scenario = tiny("strategies.names=['baseline','ft-fc','fusion','replay']", "strategies.options={}")
    run = run_scenario(scenario, out=root / "run", device="cpu", cache_dir=root / "cache")
    return scenario, run, root


def test_results_json_has_the_documented_schema(pairwise_run):
    _, run, _ = pairwise_run
    results = json.loads((run.run_dir / "results.json").read_text())
    assert results["baseline"]["source"] == "wild"
    assert set(results["baseline"]["acc"]) == {"wild", "lab-a", "lab-b"}
    assert len(results["rows"]) == 2 * 4
    for row in results["rows"]:
        assert {
            "strategy",
            "target",
            "acc",
            "macro_f1",
            "memory_integrity",
            "source_drop",
            "target_gain",
        } <= set(row)
        assert all(0.0 <= v <= 1.0 for v in row["acc"].values())
        assert row["memory_integrity"] == pytest.approx(
            row["acc"]["wild"] / results["baseline"]["acc"]["wild"]
        )
        assert row["source_drop"] == pytest.approx(results["baseline"]["acc"]["wild"] - row["acc"]["wild"])
        assert row["target_gain"] == pytest.approx(
            row["acc"][row["target"]] - results["baseline"]["acc"][row["target"]]
        )


def test_results_json_is_what_the_typed_model_writes(pairwise_run, tmp_path):
    from fer_avalanche.results import SCHEMA_VERSION, read_results, schema_errors

    _, run, _ = pairwise_run  # before test_resume_... rewrites the run's results.json
    written = (run.run_dir / "results.json").read_bytes()
    assert run.typed.write(tmp_path / "typed.json").read_bytes() == written
    assert read_results(run.run_dir).write(tmp_path / "again.json").read_bytes() == written
    assert json.loads(written)["schema_version"] == SCHEMA_VERSION
    assert run.results == run.typed.to_json()
    assert schema_errors(json.loads(written)) == []


def test_baseline_strategy_reproduces_the_baseline(pairwise_run):
    _, run, _ = pairwise_run
    base = run.results["baseline"]["acc"]
    for row in run.results["rows"]:
        assert set(row["acc"]) == {"wild", row["target"]}  # a cell evaluates its own datasets
        if row["strategy"] == "baseline":
            assert row["acc"] == pytest.approx({d: base[d] for d in row["acc"]})
            assert row["memory_integrity"] == pytest.approx(1.0)


def test_datasets_json_describes_the_data_the_run_used(pairwise_run):
    from fer_avalanche.experiment.specs import load_scenario_datasets

    scenario, run, root = pairwise_run
    written = json.loads((run.run_dir / "datasets.json").read_text())
    loaded = {d.name: d for d in load_scenario_datasets(scenario, cache_dir=root / "cache", run_seed=0)}
    assert sorted(d["name"] for d in written) == ["lab-a", "lab-b", "wild"]
    for entry in written:
        data = loaded[entry["name"]]
        assert entry["total"] == len(data) == {"wild": 420}.get(data.name, 140)
        assert entry["per_split"] == data.counts() and entry["per_class"] == data.class_counts()
        assert entry["per_split_class"]["test"] == data.class_counts("test")
        assert entry["label_space"] == "basic7" and entry["image_size"] == [48, 48]
        assert (entry["seed"], entry["fold"], entry["subjects"]) == (0, None, data.num_subjects)
        assert entry["provenance"]["split_settings"] == json.loads(
            json.dumps(data.provenance["split_settings"])
        )


def test_run_directory_is_complete(pairwise_run):
    _, run, _ = pairwise_run
    for name in (
        "scenario.toml",
        "environment.json",
        "datasets.json",
        "results.json",
        "results.csv",
        "results.md",
        "tradeoff.png",
        "accuracy_matrix.png",
    ):
        assert (run.run_dir / name).is_file(), name
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    summary = EventAccumulator(str(run.run_dir / "tb" / "summary"))
    summary.Reload()
    assert set(summary.Tags()["images"]) == {"FER/accuracy_matrix", "FER/tradeoff"}
    env = json.loads((run.run_dir / "environment.json").read_text())
    assert env["device"] == "cpu" and env["seeds"] == [0]


def test_baseline_checkpoint_is_reused_and_gives_identical_results(pairwise_run):
    scenario, run, root = pairwise_run
    assert run.results["baseline"]["per_seed"]["0"]["reused"] is False
    again = run_scenario(scenario, out=root / "again", device="cpu", cache_dir=root / "cache")
    assert again.results["baseline"]["per_seed"]["0"]["reused"] is True
    assert comparable(again.results) == comparable(run.results)


def test_existing_run_directory_is_not_overwritten(pairwise_run):
    from fer_avalanche.errors import ConfigError

    scenario, run, root = pairwise_run
    before = (run.run_dir / "results.json").read_bytes()
    with pytest.raises(ConfigError, match="already exists"):
        run_scenario(scenario, out=run.run_dir, device="cpu", cache_dir=root / "cache")
    assert (run.run_dir / "results.json").read_bytes() == before


def test_resume_recomputes_only_missing_cells(pairwise_run):
    scenario, run, root = pairwise_run
    cells = sorted((run.run_dir / "cells").glob("*.json"))
    assert len(cells) == 8
    victim = run.run_dir / "cells" / "fusion__lab-b__s0.json"
    kept = {p.name: p.stat().st_mtime_ns for p in cells if p != victim}
    victim.unlink()
    resumed = run_scenario(scenario, out=run.run_dir, device="cpu", cache_dir=root / "cache", resume=True)
    assert victim.exists()
    assert {p.name: p.stat().st_mtime_ns for p in cells if p != victim} == kept
    assert comparable(resumed.results) == comparable(run.results)


def test_sequential_mode_records_an_accuracy_matrix(tmp_path):
    scenario = tiny("mode='sequential'", "strategies.names=['naive','ft-fc']", "strategies.options={}")
    run = run_scenario(scenario, out=tmp_path / "seq", device="cpu", cache_dir=tmp_path / "cache")
    assert len(run.results["sequences"]) == 2
    seq = run.results["sequences"][0]
    assert seq["order"] == ["wild", "lab-a", "lab-b"]
    assert len(seq["matrix"]) == 3 and all(len(r) == 3 for r in seq["matrix"])
    assert seq["matrix"][0] == pytest.approx([run.results["baseline"]["acc"][d] for d in seq["order"]])
    assert seq["average_accuracy"] == pytest.approx(sum(seq["matrix"][-1]) / 3)


def test_overwrite_with_changed_settings_recomputes_every_cell(tmp_path):
    """The bug of issue 15: --overwrite reused the old run's cells and returned its numbers."""
    names = "strategies.names=['retrain']"
    first = run_scenario(tiny(names), out=tmp_path / "run", device="cpu", cache_dir=tmp_path / "cache")
    changed = tiny(names, "adapt.epochs=3")
    again = run_scenario(
        changed, out=tmp_path / "run", device="cpu", cache_dir=tmp_path / "cache", overwrite=True
    )
    fresh = run_scenario(changed, out=tmp_path / "fresh", device="cpu", cache_dir=tmp_path / "cache")
    assert comparable(again.results) == comparable(fresh.results)
    assert comparable(again.results)["rows"] != comparable(first.results)["rows"]
    on_disk = json.loads((tmp_path / "run" / "results.json").read_text())
    assert [r["acc"] for r in on_disk["rows"]] == [r["acc"] for r in fresh.results["rows"]]


def test_tensorboard_events_of_a_cell_hold_the_numbers_of_its_row(pairwise_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _, run, _ = pairwise_run
    row = next(r for r in run.results["rows"] if r["strategy"] == "fusion" and r["target"] == "lab-b")
    events = EventAccumulator(str(run.run_dir / "tb" / "fusion" / "lab-b" / "seed0"))
    events.Reload()
    scalars = {tag: events.Scalars(tag)[-1].value for tag in events.Tags()["scalars"]}
    assert scalars["FER/memory_integrity"] == pytest.approx(row["memory_integrity"], abs=1e-6)
    assert scalars["FER/acc/lab-b"] == pytest.approx(row["acc"]["lab-b"], abs=1e-6)
    assert scalars["FER/acc/wild"] == pytest.approx(row["acc"]["wild"], abs=1e-6)
    assert "FER/train_loss" in scalars and "FER/confusion/lab-b" in events.Tags()["images"]


def test_two_seeds_train_two_baselines_and_aggregate_over_them(tmp_path):
    scenario = tiny(
        "seeds=[0, 1]",
        "strategies.names=['baseline', 'ft-fc']",
        "targets=[{name='lab-a', format='synthetic', domain='lab-a', n=140}]",
    )
    run = run_scenario(
        scenario, out=tmp_path / "run", device="cpu", cache_dir=tmp_path / "cache", tensorboard=False
    )
    baselines = run.results["baselines"]
    assert [b["seed"] for b in baselines] == [0, 1]
    assert baselines[0]["checkpoint"] != baselines[1]["checkpoint"]
    assert baselines[0]["predictions"]["wild"] != baselines[1]["predictions"]["wild"]  # two trainings
    cells = sorted(p.name for p in (tmp_path / "run" / "cells").iterdir())
    assert cells == [
        "baseline__lab-a__s0.json",
        "baseline__lab-a__s1.json",
        "ft-fc__lab-a__s0.json",
        "ft-fc__lab-a__s1.json",
    ]
    summary = next(s for s in run.results["summary"] if s["strategy"] == "ft-fc")
    assert summary["n_units"] == 2
    per_seed = [r["acc"]["wild"] for r in run.results["rows"] if r["strategy"] == "ft-fc"]
    assert summary["acc"]["wild"] == pytest.approx(sum(per_seed) / 2)
    table = (tmp_path / "run" / "results.md").read_text()
    assert "## Per seed and fold" in table and "seeds: 0, 1" in table


LAB_A_ONLY = "targets=[{name='lab-a', format='synthetic', domain='lab-a', n=140}]"


def _run_with_progress(tmp_path, names: str, progress: bool) -> None:
    run_scenario(
        tiny(names, LAB_A_ONLY),
        out=tmp_path / "run",
        device="cpu",
        cache_dir=tmp_path / "c",
        progress=progress,
        tensorboard=False,
    )


def test_progress_in_a_log_is_one_plain_line_per_epoch_and_per_cell(tmp_path, capsys):
    _run_with_progress(tmp_path, "strategies.names=['ft-fc', 'fusion']", progress=True)
    err = capsys.readouterr().err  # not a terminal: no bars
    lines = err.splitlines()
    assert "\r" not in err and "it/s" not in err and "100%" not in err
    assert [line for line in lines if line.startswith("cell ")] == [
        line for line in lines if line.startswith("cell ") and " done: " in line
    ]
    assert sum(line.startswith("cell ") for line in lines) == 2
    assert any(line.startswith("[ft-fc -> lab-a (seed 0)] epoch 1/") and "loss" in line for line in lines)
    assert any(line.startswith("[baseline (seed 0)] epoch 1/1") for line in lines)


def test_quiet_prints_nothing(tmp_path, capsys):
    _run_with_progress(tmp_path, "strategies.names=['ft-fc']", progress=False)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_all_folds_of_a_kfold_target_run_as_cells_and_aggregate(tmp_path):
    scenario = tiny(
        "targets=[{name='lab-a', format='synthetic', domain='lab-a', n=210, "
        "split={method='kfold', k=3, folds='all'}}]",
        "strategies.names=['ft-fc']",
    )
    run = run_scenario(
        scenario, out=tmp_path / "run", device="cpu", cache_dir=tmp_path / "c", tensorboard=False
    )
    assert sorted(r["fold"] for r in run.results["rows"]) == [0, 1, 2]
    assert sorted(p.name for p in (tmp_path / "run" / "cells").iterdir()) == [
        f"ft-fc__lab-a__s0__f{k}.json" for k in range(3)
    ]
    # every fold tests other subjects: the test sets differ, and one baseline evaluation per fold
    assert len({b["labels"]["lab-a"] for b in run.results["baselines"] if b["fold"] is not None}) >= 2
    (summary,) = run.results["summary"]
    assert summary["n_units"] == 3
    folds = [r["acc"]["lab-a"] for r in run.results["rows"]]
    assert summary["target_acc"] == pytest.approx(sum(folds) / 3)
    # issue 20: every fold is paired with the seed's one source evaluation (the fold-free baseline entry)
    source = run.results["source"]
    assert all(r["ci"]["memory_integrity"] is not None for r in run.results["rows"])
    assert summary["ci"]["acc"][source] is not None and summary["ci"]["source_drop"] is not None
