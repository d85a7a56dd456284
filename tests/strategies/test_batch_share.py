"""The target's share of every mixed batch is the ``target_fraction`` asked for (not its complement).

Fractions off 0.5 (0.25 and 0.75), where ``f`` and ``1 - f`` differ, measured from the batches the
strategy trained on.
"""

import pytest
from _strategy_helpers import Spy, build, tiny_benchmark

from fer_avalanche.loaders import MixedBatchLoader
from fer_avalanche.utils import quiet_third_party


@pytest.fixture(scope="module")
def bench():
    from conftest import tiny_fer

    return tiny_benchmark(tiny_fer, n_source=140, n_targets=(70,))


@pytest.mark.parametrize("name", ["replay", "fusion"])
@pytest.mark.parametrize("fraction", [0.25, 0.75])
def test_mixed_batches_hold_the_target_fraction_asked_for(bench, name, fraction):
    options = {"mem_size": 60} if name == "replay" else {}
    strategy = build(name, bench, mix="batch", target_fraction=fraction, batch_size=16, **options)
    batches = []

    def record(s):
        assert isinstance(s.dataloader, MixedBatchLoader)
        batches.append(s.dataloader.last_composition)

    strategy.plugins.append(Spy("after_training_iteration", record))
    with quiet_third_party():
        strategy.train(bench.train_stream[1], eval_streams=[])
    target = sum(t for t, _ in batches)
    total = sum(t + s for t, s in batches)
    assert batches and abs(target / total - fraction) < 0.05, (target, total)
    # and the budget counts the same share: target samples over source samples
    budget = strategy.fer_budget
    n_target = len(bench.train_stream[1].dataset)
    own = budget["target_passes"] * n_target
    assert abs(own / (own + budget["source_samples"]) - fraction) < 0.05, budget
