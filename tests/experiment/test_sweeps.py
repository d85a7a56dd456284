"""Sweeps: variants from a [sweep] table, multiplied cells, baselines and cells shared where settings
agree, rows that carry their variant, reports and comparisons within and across variants."""

from __future__ import annotations

import dataclasses
import json

import pytest
from _experiment_helpers import tiny

from fer_avalanche.cli import main
from fer_avalanche.config import Scenario, load_scenario, scenario_to_toml
from fer_avalanche.errors import ConfigError
from fer_avalanche.experiment import run_scenario
from fer_avalanche.experiment.plan import Cell, plan_cells
from fer_avalanche.stats import ResultsError
from fer_avalanche.sweeps import compare_variants, find_variant, variant_view, variants_of


def one_target(*extra: str) -> Scenario:
    """The tiny demo with its first target only (half the cells)."""
    s = tiny(*extra)
    return dataclasses.replace(s, targets=s.targets[:1])


BUDGET = "sweep.values.adapt.budget=['steps', 'target_passes']"
FRACTION = "sweep.values.strategies.options.fusion.target_fraction=[0.25, 0.5]"


# ------------------------------------------------------------------------------------------ config
def test_a_sweep_table_in_a_scenario_file_gives_its_grid_of_variants(tmp_path):
    path = tmp_path / "s.toml"
    text = (scenario_to_toml(Scenario.demo()) + '\n[sweep]\nmode = "grid"\n\n[sweep.values]\n'
            '"adapt.budget" = ["steps", "target_passes"]\nadapt.lr = [0.001, 0.003]\n')  # fmt: skip
    path.write_text(text)
    s = load_scenario(path)
    assert s.variants() == [
        (("adapt.budget", "steps"), ("adapt.lr", 0.001)),
        (("adapt.budget", "steps"), ("adapt.lr", 0.003)),
        (("adapt.budget", "target_passes"), ("adapt.lr", 0.001)),
        (("adapt.budget", "target_passes"), ("adapt.lr", 0.003)),
    ]
    assert [s.for_variant(v).adapt.lr for v in s.variants()] == [0.001, 0.003, 0.001, 0.003]
    assert all(s.for_variant(v).sweep is None for v in s.variants())
    again = tmp_path / "again.toml"
    again.write_text(scenario_to_toml(s))  # what a run directory records reads back the same
    assert load_scenario(again).variants() == s.variants()


def test_zip_pairs_the_lists_and_needs_equal_lengths():
    s = Scenario.demo().with_overrides(
        ["sweep.mode=zip", "sweep.values.adapt.lr=[0.001, 0.003]", "sweep.values.adapt.epochs=[2, 4]"]
    )
    assert [(x.adapt.lr, x.adapt.epochs) for x in map(s.for_variant, s.variants())] == [
        (0.001, 2),
        (0.003, 4),
    ]
    with pytest.raises(ConfigError, match=r"mode = 'zip' needs lists of one length"):
        Scenario.demo().with_overrides(
            ["sweep.mode=zip", "sweep.values.adapt.lr=[0.001, 0.003]", "sweep.values.adapt.epochs=[2]"]
        )


@pytest.mark.parametrize(
    ("key", "value"),
    [("adapt.bugdet", "['steps']"), ("strategies.options.fusion.target_fracton", "[0.5]")],
)
def test_a_bad_sweep_key_gets_the_same_did_you_mean_as_set(key, value):
    with pytest.raises(ConfigError, match="unknown key") as by_set:
        Scenario.demo().with_overrides([f"{key}={value[1:-1]}"])
    with pytest.raises(ConfigError, match=r"sweep: unknown key") as by_sweep:
        Scenario.demo().with_overrides([f"sweep.values.{key}={value}"])
    hint = str(by_set.value).split("unknown key", 1)[1]
    assert "did you mean" in hint and str(by_sweep.value).endswith(hint)


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ("sweep.values.adapt.lr=0.001", "must be a non-empty list"),
        ("sweep.values.adapt.lr=[]", "must be a non-empty list"),
        ("sweep.values.name=['a', 'b']", "'name' cannot be swept"),
        ("sweep.values.adapt.budget=['steps', 'stpes']", "did you mean 'steps'"),
        ("sweep.mode=product", "sweep.mode must be one of grid, zip"),
    ],
)
def test_bad_sweeps_are_rejected_with_the_key(override, match):
    with pytest.raises(ConfigError, match=match):
        Scenario.demo().with_overrides([override])


def test_cells_are_multiplied_by_the_variants_and_named_apart():
    s = Scenario.demo().with_overrides([BUDGET, FRACTION])
    cells = plan_cells(s)
    assert len(cells) == 4 * len(plan_cells(Scenario.demo()))
    assert len({c.name for c in cells}) == len(cells)
    assert cells[0].name == "baseline__lab-a__s0__budget=steps_target_fraction=0.25"
    assert Cell.from_dict(cells[-1].to_dict()) == cells[-1]
    # without a sweep the cell (and so its key) is what it always was: old runs resume
    assert "variant" not in plan_cells(Scenario.demo())[0].to_dict()


# ------------------------------------------------------------------------------------------ runs
def _count(monkeypatch):
    import fer_avalanche.experiment.baseline as baseline
    import fer_avalanche.experiment.tasks as tasks

    counts = {"baseline": 0, "cells": []}
    train, run_cell = baseline._train, tasks.run_cell

    def counting_train(*args, **kwargs):
        counts["baseline"] += 1
        return train(*args, **kwargs)

    def counting_cell(ctx, cell, *args, **kwargs):
        counts["cells"].append(cell)
        return run_cell(ctx, cell, *args, **kwargs)

    monkeypatch.setattr(baseline, "_train", counting_train)
    monkeypatch.setattr(tasks, "run_cell", counting_cell)
    return counts


@pytest.fixture(scope="module")
def sweep_run(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    counts = _count(mp)
    root = tmp_path_factory.mktemp("sweep")
    scenario = one_target(
        "strategies.names=['baseline', 'ft-fc', 'fusion']", "seeds=[0, 1]", BUDGET, FRACTION
    )
    try:
        run = run_scenario(scenario, out=root / "run", device="cpu", cache_dir=root / "cache", threads=1)
    finally:
        mp.undo()
    return scenario, run, counts, root


@pytest.mark.slow
def test_a_sweep_trains_each_baseline_once_per_seed_and_each_distinct_cell_once(sweep_run):
    _, run, counts, _ = sweep_run
    assert counts["baseline"] == 2  # two seeds, four variants of the adaptation: two trainings
    computed = [(c.strategy, c.targets, c.seed) for c in counts["cells"]]
    by_strategy = {s: sum(c[0] == s for c in computed) for s in ("baseline", "ft-fc", "fusion")}
    # baseline: not adapted, once per seed; ft-fc: once per budget (fusion's option is not its
    # setting); fusion: once per variant
    assert by_strategy == {"baseline": 2, "ft-fc": 4, "fusion": 8}
    rows = run.results["rows"]
    assert len(rows) == 4 * 3 * 2 and len(list((run.run_dir / "cells").iterdir())) == len(rows)
    assert {json.dumps(r["variant"], sort_keys=True) for r in rows} == {
        json.dumps({"adapt.budget": b, "strategies.options.fusion.target_fraction": f}, sort_keys=True)
        for b in ("steps", "target_passes")
        for f in (0.25, 0.5)
    }
    fusion = {(r["variant"]["adapt.budget"], r["variant"]["strategies.options.fusion.target_fraction"],
               r["target"], r["seed"]): r["budget"] for r in rows if r["strategy"] == "fusion"}  # fmt: skip
    # target_fraction changes fusion's epoch, hence its target passes under equal steps
    assert (
        fusion[("steps", 0.25, "lab-a", 0)]["target_passes"]
        < fusion[("steps", 0.5, "lab-a", 0)]["target_passes"]
    )


@pytest.mark.slow
def test_shared_cells_give_every_variant_the_same_numbers(sweep_run):
    _, run, _, _ = sweep_run
    ft = [
        r
        for r in run.results["rows"]
        if r["strategy"] == "ft-fc" and r["target"] == "lab-a" and r["seed"] == 0
    ]
    steps = [r for r in ft if r["variant"]["adapt.budget"] == "steps"]
    assert len(steps) == 2 and steps[0]["predictions"] == steps[1]["predictions"]


@pytest.mark.slow
def test_results_md_groups_by_variant_and_summaries_stay_within_one(sweep_run):
    _, run, _, _ = sweep_run
    text = (run.run_dir / "results.md").read_text()
    assert text.count("## Variant ") == 4
    assert "## Variant 3: adapt.budget=target_passes, strategies.options.fusion.target_fraction=0.5" in text
    summary = run.results["summary"]
    assert len(summary) == 4 * 3 and all(e["n_units"] == 2 for e in summary)
    assert (
        "variant" in run.results["rows"][0]
        and (run.run_dir / "results.csv").read_text().count("target_passes") > 1
    )
    assert len(list(run.run_dir.glob("tradeoff__*.png"))) == 4


@pytest.mark.slow
def test_resume_of_a_sweep_recomputes_nothing(sweep_run, monkeypatch):
    scenario, run, _, root = sweep_run
    counts = _count(monkeypatch)
    again = run_scenario(
        scenario, out=run.run_dir, device="cpu", cache_dir=root / "cache", resume=True, threads=1
    )
    assert counts == {"baseline": 0, "cells": []}
    strip = [{k: v for k, v in r.items() if k != "train_time_s"} for r in again.results["rows"]]
    assert strip == [{k: v for k, v in r.items() if k != "train_time_s"} for r in run.results["rows"]]


@pytest.mark.slow
def test_compare_within_a_variant_and_across_two(sweep_run, capsys):
    _, run, _, _ = sweep_run
    results = run.results
    v0, v1 = find_variant(results, "budget=steps, target_fraction=0.25"), find_variant(results, 1)
    assert v1 == {"adapt.budget": "steps", "strategies.options.fusion.target_fraction": 0.5}
    within = compare_variants(results, "fusion", "ft-fc", variant=v0, n_boot=50)
    assert within["variant"] == v0
    across = compare_variants(results, "fusion", "fusion", variant=v0, variant_b=v1, n_boot=50)
    assert across["variant_b"] == v1
    # the same strategy across two variants: the difference is what the swept setting did
    view0, view1 = variant_view(results, v0), variant_view(results, v1)
    assert len(variants_of(view0)) == 1
    with pytest.raises(ResultsError, match="name the one to compare in"):
        compare_variants(results, "fusion", "ft-fc")
    with pytest.raises(ResultsError, match="2 variants match"):
        find_variant(results, "budget=steps")
    assert main(["report", str(run.run_dir), "--compare", "fusion", "fusion", "--variant", "0",
                 "--variant-b", "target_fraction=0.5,budget=steps", "--n-boot", "50"]) == 0  # fmt: skip
    assert "variant: adapt.budget=steps" in capsys.readouterr().out
    assert view0["rows"] and view1["rows"]


@pytest.mark.slow
def test_the_monitor_of_a_sweep_reaches_each_rows_plugin(tmp_path):
    scenario = one_target(
        "strategies.names=['ft-fc', 'fusion']",
        "adapt.select=best_val",
        "sweep.values.adapt.monitor=['target', 'mean']",
    )
    run = run_scenario(scenario, out=tmp_path / "run", device="cpu", cache_dir=tmp_path / "cache", threads=1)
    got = {(r["strategy"], r["variant"]["adapt.monitor"], r["monitor"]) for r in run.results["rows"]}
    assert got == {(s, m, m) for s in ("ft-fc", "fusion") for m in ("target", "mean")}


def test_paper_reports_both_budget_views_and_tfeid_exact_counts():
    paper = load_scenario("paper")
    assert [dict(v) for v in paper.variants()] == [
        {"adapt.budget": "steps"},
        {"adapt.budget": "target_passes"},
    ]
    tfeid = next(t for t in paper.targets if t.name == "tfeid")
    assert tfeid.split.counts == [405, 47, 58]
    # the fair defaults in the other bundled scenarios too
    for name in ("sequential", "class_incremental"):
        s = load_scenario(name)
        assert s.adapt.budget == "steps" and s.strategies.options["replay"]["mix"] == "batch"


@pytest.mark.slow
def test_a_sweep_of_the_baselines_settings_trains_one_baseline_per_variant(tmp_path, monkeypatch):
    counts = _count(monkeypatch)
    scenario = one_target("strategies.names=['baseline', 'ft-fc']", "sweep.values.train.lr=[0.002, 0.004]")
    run = run_scenario(scenario, out=tmp_path / "run", device="cpu", cache_dir=tmp_path / "cache", threads=1)
    results = run.results
    assert counts["baseline"] == 2
    assert [b["variants"] for b in results["baselines"]] == [[{"train.lr": 0.002}], [{"train.lr": 0.004}]]
    for v in variants_of(results):  # each variant's rows are measured against its own baseline
        view = variant_view(results, v)
        base = {r["strategy"]: r for r in view["rows"]}["baseline"]
        assert base["acc"] == view["baselines"][0]["acc"]
    with pytest.raises(ResultsError, match="different baselines"):
        compare_variants(
            results, "ft-fc", "ft-fc", variant=find_variant(results, 0), variant_b=find_variant(results, 1)
        )


def test_intervals_and_summaries_are_computed_within_each_variant():
    from fer_avalanche import stats, sweeps

    def row(variant, predictions):
        return {"strategy": "ft-fc", "target": "t", "seed": 0, "fold": None, "variant": variant,
                "acc": {"s": 1.0, "t": 0.5}, "memory_integrity": 1.0, "source_drop": 0.0, "target_gain": 0.0,
                "predictions": {"s": "0101", "t": predictions}}  # fmt: skip

    results = {
        "source": "s",
        "datasets": ["s", "t"],
        "baselines": [{"seed": 0, "fold": None, "acc": {"s": 1.0, "t": 0.5},
                       "labels": {"s": "0101", "t": "0011"}, "predictions": {"s": "0101", "t": "0000"}}],
        "baseline": {"acc": {"s": 1.0, "t": 0.5}},
        "rows": [row({"adapt.lr": 0.1}, "0011"), row({"adapt.lr": 0.2}, "1100")],
    }  # fmt: skip
    out = sweeps.add_intervals(results, n_boot=200)
    assert [e["variant"] for e in out["summary"]] == [{"adapt.lr": 0.1}, {"adapt.lr": 0.2}]
    for i, variant in enumerate(sweeps.variants_of(results)):
        alone = stats.add_intervals(variant_view(results, variant), n_boot=200)
        assert out["rows"][i]["ci"] == alone["rows"][0]["ci"]
        assert {k: v for k, v in out["summary"][i].items() if k != "variant"} == alone["summary"][0]
        assert out["rows"][i]["variant"] == variant
