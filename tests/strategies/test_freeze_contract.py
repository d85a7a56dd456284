"""FreezePlugin's contract without training: names, messages, the optimizer it leaves behind.

The hooks are called in Avalanche's order on a stand-in strategy (a model, an optimizer over every
parameter as ``make_optimizer`` builds it, Avalanche's ``optimized_param_id``), so each case is
milliseconds; ``test_freeze.py`` trains.
"""

from types import SimpleNamespace

import pytest
import torch
from _strategy_helpers import baseline_model

from fer_avalanche.errors import ConfigError
from fer_avalanche.strategies.plugins import FreezePlugin
from fer_avalanche.strategies.plugins.freeze import freeze_parts


def _strategy(model):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.5)
    tracked = dict(model.named_parameters())
    return SimpleNamespace(model=model, optimizer=optimizer, optimized_param_id=tracked)


def _prepare(plugin, strategy):
    plugin.before_train_dataset_adaptation(strategy)
    plugin.before_training_exp(strategy)
    return strategy


def test_freeze_parts_refuses_the_empty_name_that_would_freeze_the_whole_model():
    model = baseline_model()
    with pytest.raises(ConfigError, match=r"cannot freeze \[''\]: not submodules of FERNet"):
        freeze_parts(model, [""])
    assert all(p.requires_grad for p in model.parameters())


def test_an_unknown_part_is_refused_naming_the_model_class():
    with pytest.raises(ConfigError, match=r"\['head'\]: not submodules of FERNet; valid top-level"):
        freeze_parts(baseline_model(), ["features", "head"])


def test_a_single_name_is_one_part():
    plugin = FreezePlugin("features")
    assert plugin.parts == ("features",)
    assert repr(plugin) == "FreezePlugin(parts=['features'])"


def test_an_empty_part_list_is_refused_saying_what_is_missing():
    with pytest.raises(ConfigError, match=r"^FreezePlugin needs at least one part name to freeze, got none$"):
        FreezePlugin([])


def test_the_optimizer_keeps_the_trainable_parameters_and_its_hyper_parameters():
    strategy = _prepare(FreezePlugin(["features", "last_conv"]), _strategy(baseline_model()))
    trainable = [p for p in strategy.model.parameters() if p.requires_grad]
    (group,) = strategy.optimizer.param_groups
    assert group["params"] == trainable and (group["lr"], group["momentum"]) == (0.05, 0.5)


def test_freezing_every_part_leaves_one_empty_group_with_the_hyper_parameters():
    strategy = _prepare(FreezePlugin(["features", "last_conv", "classifier"]), _strategy(baseline_model()))
    (group,) = strategy.optimizer.param_groups
    assert group["params"] == [] and (group["lr"], group["momentum"]) == (0.05, 0.5)


def test_avalanche_tracks_only_the_trainable_parameters_afterwards():
    # Avalanche's optimized_param_id is what its next make_optimizer and our checkpoints read
    strategy = _prepare(FreezePlugin(["features"]), _strategy(baseline_model()))
    expected = [n for n, p in strategy.model.named_parameters() if not n.startswith("features.")]
    assert list(strategy.optimized_param_id) == expected
    assert all(p.requires_grad for p in strategy.optimized_param_id.values())


def test_a_strategy_without_tracked_parameters_is_left_so():
    strategy = _strategy(baseline_model())
    strategy.optimized_param_id = None
    _prepare(FreezePlugin(["features"]), strategy)
    assert strategy.optimized_param_id is None
