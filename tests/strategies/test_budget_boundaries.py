"""BudgetPlugin by hand, without training: each cap on both sides of its boundary, the epochs it sets,
what it counts for loaders that are not ours and for A-GEM's reference batches, and its checkpoint
state. Fake strategies and loaders (plain objects) keep every test under a millisecond."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from fer_avalanche.errors import ConfigError
from fer_avalanche.loaders import MixedBatchLoader
from fer_avalanche.strategies.plugins import BudgetPlugin
from fer_avalanche.strategies.plugins.budget import current_target
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.training.plugins import AGEMPlugin
    from avalanche.training.supervised import JointTraining


# ------------------------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epochs": 0}, r"epochs must be an int >= 1, got 0"),
        ({"epochs": 1.5}, r"epochs must be an int >= 1, got 1\.5"),
        ({"epochs": True}, r"epochs must be an int >= 1, got True"),
        ({"epochs": 1, "max_steps": 0}, r"max_steps must be an int >= 1 or None, got 0"),
        ({"epochs": 1, "max_steps": True}, r"max_steps must be an int >= 1 or None, got True"),
        ({"epochs": 1, "target_passes": 0}, r"target_passes must be a number > 0 or None, got 0"),
        ({"epochs": 1, "target_passes": True}, r"target_passes must be a number > 0 or None, got True"),
        ({"epochs": 1, "target_passes": "1"}, r"target_passes must be a number > 0 or None, got '1'"),
        (
            {"epochs": 1, "max_steps": 3, "target_passes": 1.0},
            r"give one training budget, max_steps \(3\) or target_passes \(1\.0\), not both",
        ),
    ],
)
def test_a_bad_budget_is_refused_with_a_message_naming_it(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        BudgetPlugin(**kwargs)


def test_the_smallest_valid_budgets_are_accepted():
    assert BudgetPlugin(epochs=1, max_steps=1).max_steps == 1
    assert BudgetPlugin(epochs=1, target_passes=0.01).target_passes == 0.01
    assert BudgetPlugin(epochs=1, target_passes=2).target_passes == 2.0


# ------------------------------------------------------------------------------ the steps it sets
def _strategy(loader, own_size=10, plugins=()):
    return SimpleNamespace(
        dataloader=loader,
        experience=SimpleNamespace(dataset=list(range(own_size))),
        plugins=list(plugins),
        _stop_training=True,
        train_epochs=None,
        stop_training=lambda: None,
    )


def _mixed(n_target, batch_size, target_fraction):
    loader = MixedBatchLoader.__new__(MixedBatchLoader)  # only the sizes the budget reads
    loader.n_target, loader.batch_size, loader.target_fraction = n_target, batch_size, target_fraction
    return loader


@pytest.mark.parametrize(
    ("max_steps", "n_batches", "epochs"), [(3, 5, 1), (5, 5, 1), (6, 5, 2), (12, 5, 3), (3, 1, 3)]
)
def test_max_steps_sets_the_epochs_that_hold_them(max_steps, n_batches, epochs):
    plugin = BudgetPlugin(epochs=9, max_steps=max_steps)
    strategy = _strategy(list(range(n_batches)))
    plugin.before_training_exp(strategy)
    assert strategy.train_epochs == epochs and strategy._stop_training is False


@pytest.mark.parametrize(
    ("passes", "n_batches", "steps"), [(0.1, 5, 1), (1, 8, 8), (0.7, 10, 7), (1.5, 5, 8), (2, 3, 6)]
)
def test_target_passes_over_a_plain_loader_are_the_ceiling_of_passes_times_batches(passes, n_batches, steps):
    plugin = BudgetPlugin(epochs=9, target_passes=passes)
    strategy = _strategy(list(range(n_batches)))
    plugin.before_training_exp(strategy)
    assert plugin._step_limit(strategy.dataloader) == steps


@pytest.mark.parametrize(
    ("passes", "n_target", "batch", "fraction", "steps"),
    [(1, 64, 16, 0.5, 8), (1, 131, 32, 0.25, 17), (0.01, 64, 16, 0.5, 1), (0.7, 10, 2, 0.5, 7)],
)
def test_target_passes_with_batch_mixing_are_the_ceiling_of_target_samples_over_the_share(
    passes, n_target, batch, fraction, steps
):
    plugin = BudgetPlugin(epochs=9, target_passes=passes)
    assert plugin._step_limit(_mixed(n_target, batch, fraction)) == steps


# --------------------------------------------------------------------------------------- counting
def _iteration(plugin, strategy, batch=16):
    strategy.mbatch = (torch.zeros(batch, 1), torch.zeros(batch, dtype=torch.long))
    plugin.after_training_iteration(strategy)


def test_a_loader_that_is_not_ours_counts_every_sample_as_the_targets():
    plugin = BudgetPlugin(epochs=1)
    strategy = _strategy([0, 1, 2], own_size=32)  # a plain list: no last_composition
    plugin.before_training_exp(strategy)
    for _ in range(3):
        _iteration(plugin, strategy)
    plugin.after_training_exp(strategy)
    assert plugin.last == {"steps": 3, "target_passes": 1.5, "source_samples": 0, "epochs": 0}


def test_an_empty_own_dataset_reports_zero_passes():
    plugin = BudgetPlugin(epochs=1)
    strategy = _strategy([], own_size=0)
    plugin.before_training_exp(strategy)
    plugin.after_training_exp(strategy)
    assert plugin.last["target_passes"] == 0.0


def _agem(sample_size, n_buffers):
    plugin = AGEMPlugin(patterns_per_experience=10, sample_size=sample_size)
    plugin.buffers = [object()] * n_buffers
    return plugin


def test_agem_reference_batches_count_as_source_samples():
    # 16 reference samples over 3 buffers: 5 per buffer, 15 in all; two A-GEM plugins: both count
    plugins = [_agem(16, 3), _agem(8, 2)]
    plugin = BudgetPlugin(epochs=1)
    strategy = _strategy([0, 1], own_size=32, plugins=plugins)
    plugin.before_training_exp(strategy)
    _iteration(plugin, strategy)
    _iteration(plugin, strategy)
    plugin.after_training_exp(strategy)
    assert plugin.last["source_samples"] == 2 * (15 + 8)
    assert plugin.last["target_passes"] == 1.0


def test_the_own_dataset_of_joint_training_is_the_last_experience():
    experiences = [SimpleNamespace(name=n) for n in ("source", "t1", "t2")]
    joint = JointTraining.__new__(JointTraining)
    joint._experiences, joint.experience = experiences, "the union"
    assert current_target(joint).name == "t2"
    other = SimpleNamespace(_experiences=experiences, experience="current")  # not JointTraining
    assert current_target(other) == "current"
    empty = JointTraining.__new__(JointTraining)  # before its first train: no _experiences yet
    empty.experience = "current"
    assert current_target(empty) == "current"


# ------------------------------------------------------------------------------------- checkpoint
def test_the_records_round_trip_through_the_checkpoint_state():
    plugin = BudgetPlugin(epochs=1)
    plugin.records = [{"steps": 3, "target_passes": 1.5, "source_samples": 4, "epochs": 1}]
    state = plugin.state_dict()
    assert state == {"records": [{"steps": 3, "target_passes": 1.5, "source_samples": 4, "epochs": 1}]}
    state["records"][0]["steps"] = 99  # a copy, not the plugin's own dicts
    assert plugin.records[0]["steps"] == 3
    again = BudgetPlugin(epochs=1)
    again.load_state_dict(plugin.state_dict())
    assert again.records == plugin.records and again.last == plugin.records[0]
