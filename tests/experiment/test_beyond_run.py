"""Beyond the paper through the runner: a target without neutral, absent_classes, wise-ft over lp-ft."""

import json

import pytest
from _experiment_helpers import tiny

from fer_avalanche.errors import ConfigError
from fer_avalanche.experiment import run_scenario
from fer_avalanche.experiment.context import ExperimentContext
from fer_avalanche.strategies.plugins import AbsentClassPlugin

NO_NEUTRAL = (
    "targets=[{name='lab-a', format='synthetic', domain='lab-a', n=140, options={drop_classes=['neutral']}}]"
)


def built(*overrides, strategy="ft-fc"):
    """The strategy the runner builds for ``strategy`` under ``overrides`` (nothing trained)."""
    ctx = ExperimentContext(tiny(NO_NEUTRAL, *overrides), "cpu", cache_dir=None)
    bm = ctx.benchmark(ctx.datasets(["lab-a"], 0), validation=False)
    return ctx.strategy(
        ctx.recipe(strategy),
        ctx.new_model(),
        0,
        source=bm.train_stream[0],
        evaluator=None,
        plugins=[],
        val_sets=None,
    )


@pytest.mark.parametrize(
    ("overrides", "mode"),
    [
        ((), "train"),  # the default
        (("adapt.absent_classes='mask'",), "mask"),
        (("adapt.absent_classes='train'", "strategies.options.ft-fc.absent_classes='mask'"), "mask"),
        (("adapt.absent_classes='mask'", "strategies.options.ft-fc.absent_classes='train'"), "train"),
    ],
)
def test_absent_classes_reaches_the_strategy_from_the_scenario(overrides, mode):
    strategy = built(*overrides)
    assert strategy.fer_absent_classes == mode
    assert any(isinstance(p, AbsentClassPlugin) for p in strategy.plugins) == (mode == "mask")


def test_bad_absent_classes_and_drop_classes_are_reported():
    with pytest.raises(ConfigError, match=r"adapt\.absent_classes must be one of"):
        tiny("adapt.absent_classes='ignore'")
    with pytest.raises(ConfigError, match=r"drop_classes must name some \(not all\) of"):
        built("targets.lab-a.options={drop_classes=['calm']}")
    with pytest.raises(ConfigError, match="synthetic domains take only the option 'drop_classes'"):
        built("targets.lab-a.options={classes=['happy']}")


@pytest.mark.slow
def test_wise_ft_over_lp_ft_on_a_target_without_neutral_records_everything(tmp_path):
    scenario = tiny(
        NO_NEUTRAL,
        "adapt.absent_classes='mask'",
        "strategies.names=['baseline', 'wise-ft']",
        "strategies.options={wise-ft={base='lp-ft', alphas=[0.0, 0.5, 1.0]}, lp-ft={probe_fraction=0.25}}",
    )
    run = run_scenario(scenario, out=tmp_path / "run", device="cpu", cache_dir=tmp_path / "cache")
    results = json.loads((run.run_dir / "results.json").read_text())
    assert results["absent_classes"] == {"lab-a": ["neutral"]}  # from the target's training labels
    row = next(r for r in results["rows"] if r["strategy"] == "wise-ft")
    assert row["absent_classes"] == "mask" and row["masked_classes"] == [6]
    assert row["alpha"] in (0.0, 0.5, 1.0)
    assert [p["alpha"] for p in row["alpha_curve"]] == [0.0, 0.5, 1.0]
    assert all(set(p["val"]) == set(p["test"]) == {"wild", "lab-a"} for p in row["alpha_curve"])
    chosen = next(p for p in row["alpha_curve"] if p["alpha"] == row["alpha"])
    assert chosen["test"]["lab-a"] == pytest.approx(row["acc"]["lab-a"])  # the row is the chosen model
    base = next(r for r in results["baselines"] if r["seed"] == 0)
    assert row["alpha_curve"][0]["test"]["wild"] == pytest.approx(base["acc"]["wild"])  # a = 0: baseline
    split = row["lp_ft"]
    assert split["probe_steps"] + split["finetune_steps"] == row["budget"]["steps"]
    assert split["probe_steps"] == round(0.25 * row["budget"]["steps"])  # lp-ft's own options reach the base
    assert row["budget"]["evaluations"] == 3 * 2
    text = (run.run_dir / "results.md").read_text()
    assert "- lab-a: neutral (not in its training split)" in text
    assert "## Forgotten classes" in text and "| wise-ft | lab-a | 1 |" in text
    assert (run.run_dir / "tradeoff.png").stat().st_size > 0
