"""TrainingRecipe: resolved once from the scenario, validated once, keyed exactly as the caches were."""

import dataclasses

import pytest
from _experiment_helpers import tiny

from fer_avalanche.errors import ConfigError
from fer_avalanche.experiment.context import ExperimentContext
from fer_avalanche.experiment.recipe import TrainingRecipe


def test_a_strategy_recipe_is_adapt_with_its_overrides_and_its_own_options():
    scenario = tiny("adapt.lr=0.01", "strategies.options.replay={mem_size=50, epochs=4, lr=0.5}")
    recipe = TrainingRecipe.from_scenario(scenario, "replay")
    assert (recipe.train.epochs, recipe.train.lr, dict(recipe.options)) == (4, 0.5, {"mem_size": 50})
    assert recipe.where == "strategies.options.replay"
    other = TrainingRecipe.from_scenario(scenario, "ft-fc")  # no overrides: adapt as it is
    assert (other.train.lr, other.where, dict(other.options)) == (0.01, "adapt", {})
    assert scenario.adapt.epochs != 4  # the scenario itself is left alone
    baseline = TrainingRecipe.from_scenario(scenario)
    assert baseline.train == scenario.train and baseline.strategy == "naive"


def test_a_bad_override_is_reported_once_naming_the_setting():
    scenario = tiny("strategies.options.ft-fc.lr=100.0")
    with pytest.raises(
        ConfigError, match=r"strategies\.options\.ft-fc\.lr must be in \[1e-08, 10\.0\], got 100\.0"
    ):
        TrainingRecipe.from_scenario(scenario, "ft-fc")
    with pytest.raises(ConfigError, match=r"strategies\.options\.ft-fc\.steps is used only with"):
        TrainingRecipe.from_scenario(
            tiny("adapt.budget='epochs'", "strategies.options.ft-fc.steps=5"), "ft-fc"
        )
    with pytest.raises(ConfigError, match=r"adapt\.epochs must be >= 1 with budget = 'steps' and no steps"):
        TrainingRecipe(where="adapt", train=dataclasses.replace(tiny().adapt, budget="steps", epochs=0))


def test_the_recipe_is_frozen_and_made_once_per_strategy_by_the_context():
    ctx = ExperimentContext(tiny(), "cpu", cache_dir=None)
    recipe = ctx.recipe("ft-fc")
    assert ctx.recipe("ft-fc") is recipe and ctx.recipe() is not recipe
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'strategy'"):
        recipe.strategy = "retrain"


def test_the_evaluation_recipe_has_no_cap_and_no_selection():
    recipe = TrainingRecipe.from_scenario(tiny("train.select='best_val'", "train.budget='steps'"))
    evaluation = recipe.for_evaluation()
    assert recipe.uses_validation and not evaluation.uses_validation
    kwargs = evaluation.strategy_kwargs(val_sets={"v": object()})
    assert "epoch_steps" not in kwargs and "max_steps" not in kwargs and "select" not in kwargs
    assert evaluation.strategy == "baseline" and evaluation.train.lr == recipe.train.lr


def test_the_cuda_only_settings_are_resolved_for_the_device():
    assert TrainingRecipe.from_scenario(tiny("amp=true"), "ft-fc", "cuda").amp is True
    assert TrainingRecipe.from_scenario(tiny("amp=true"), "ft-fc", "cpu").amp is False
    assert TrainingRecipe.from_scenario(tiny("amp=true"), None, "cpu").key()["amp"] is False
