"""``budget = "steps"`` without ``steps``: the cap BudgetPlugin derives per experience from its own size.

The rule (kept from the runner that computed it before): ``epochs * ceil(n_own / batch_size)``, a
ceiling also when the loader drops a last batch of one sample, and each target of a sequence its own.
"""

import math

import pytest
from _strategy_helpers import build, tiny_benchmark

from fer_avalanche.errors import ConfigError
from fer_avalanche.strategies.plugins import BudgetPlugin
from fer_avalanche.utils import quiet_third_party


@pytest.mark.parametrize(("n_own", "steps"), [(131, 10), (128, 8), (1, 2), (32, 2), (33, 4)])
def test_the_derived_cap_is_epochs_times_the_ceiling_of_the_batches(n_own, steps):
    assert BudgetPlugin(epochs=2, epoch_steps=True).steps_for(n_own, batch_size=32) == steps


def test_a_sequence_of_two_targets_of_different_sizes_gets_each_its_own_cap():
    from conftest import tiny_fer

    bench = tiny_benchmark(tiny_fer, n_source=60, n_targets=(80, 45))
    sizes = [len(bench.train_stream[i].dataset) for i in (1, 2)]
    assert sizes == [49, 28]  # neither a multiple of 16; 49 % 16 == 1: the loader drops a 1-sample batch
    strategy = build("ft-fc", bench, epochs=2, batch_size=16, epoch_steps=True)
    with quiet_third_party():
        for i in (1, 2):
            strategy.train(bench.train_stream[i], eval_streams=[])
    expected = [2 * math.ceil(n / 16) for n in sizes]
    assert expected == [8, 4]
    assert [b["steps"] for b in strategy.fer_budgets] == expected


def test_epoch_steps_is_one_cap_among_the_others():
    with pytest.raises(ConfigError, match=r"give one training budget, max_steps \(5\) or epoch_steps"):
        BudgetPlugin(epochs=1, max_steps=5, epoch_steps=True)
    with pytest.raises(ConfigError, match="epoch_steps must be True or False, got 1"):
        BudgetPlugin(epochs=1, epoch_steps=1)


def test_the_repr_names_every_cap():
    assert repr(BudgetPlugin(3, max_steps=5)) == "BudgetPlugin(epochs=3, max_steps=5, target_passes=None)"
    assert (
        repr(BudgetPlugin(3, target_passes=1.5))
        == "BudgetPlugin(epochs=3, max_steps=None, target_passes=1.5)"
    )
    assert repr(BudgetPlugin(3, epoch_steps=True)) == (
        "BudgetPlugin(epochs=3, max_steps=None, target_passes=None, epoch_steps=True)"
    )
