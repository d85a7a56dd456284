"""Budgets: the same optimizer steps or target passes for every strategy, and a record of what each got."""

import math

import pytest
from _strategy_helpers import baseline_model, build, tiny_benchmark

from fer_avalanche.errors import ConfigError
from fer_avalanche.strategies import make_strategy
from fer_avalanche.utils import quiet_third_party

#: The strategies issue 11 compares under one budget, with their options.
COMPARED = {
    "ft-fc": {},
    "retrain": {},
    "fusion": {},
    "fusion-batch": {"mix": "batch", "target_fraction": 0.5},
    "replay": {"mem_size": 30},
    "lwf": {},
    "joint": {},
}


@pytest.fixture(scope="module")
def bench():
    from conftest import tiny_fer

    return tiny_benchmark(tiny_fer, n_source=140, n_targets=(70, 70))


def _train(strategy, bench, target=1):
    source = bench.train_stream[0]
    with quiet_third_party():
        if strategy.fer_spec.trains == "joint":
            strategy.train([source, bench.train_stream[target]], eval_streams=[])
        else:
            strategy.train(bench.train_stream[target], eval_streams=[])
    return strategy


def _strategy(key, bench, **kwargs):
    name = key.removesuffix("-batch")
    return make_strategy(
        name,
        baseline_model(),
        source=bench.train_stream[0],
        batch_size=16,
        epochs=1,
        **COMPARED[key],
        **kwargs,
    )


@pytest.mark.parametrize("key", sorted(COMPARED))
def test_max_steps_gives_every_strategy_the_same_optimizer_steps(bench, key):
    strategy = _train(_strategy(key, bench, max_steps=7), bench)
    assert strategy.clock.train_iterations == 7  # Avalanche's own clock, not just our counter
    assert strategy.fer_budget["steps"] == 7 and strategy.fer_budgets == [strategy.fer_budget]


def test_max_steps_stop_exactly_at_an_epoch_boundary_and_the_next_experience_trains(bench):
    n_batches = math.ceil(len(bench.train_stream[1].dataset) / 16)
    strategy = _strategy("retrain", bench, max_steps=2 * n_batches)
    with quiet_third_party():  # both experiences in one call: no reset between them but the plugin's
        strategy.train([bench.train_stream[1], bench.train_stream[2]], eval_streams=[])
    assert [b["steps"] for b in strategy.fer_budgets] == [2 * n_batches] * 2
    assert [b["epochs"] for b in strategy.fer_budgets] == [2, 2]
    assert strategy.clock.train_iterations == 4 * n_batches


def test_target_passes_alone_are_epochs_over_the_target(bench):
    strategy = _train(_strategy("retrain", bench, target_passes=3), bench)
    n = len(bench.train_stream[1].dataset)
    assert strategy.fer_budget == {
        "steps": 3 * math.ceil(n / 16),
        "target_passes": 3.0,
        "source_samples": 0,
        "epochs": 3,
    }


@pytest.mark.parametrize("key", ["fusion", "joint"])
def test_target_passes_with_concatenation_are_passes_over_the_union(bench, key):
    strategy = _train(_strategy(key, bench, target_passes=2), bench)
    n_src, n_tgt = (len(bench.train_stream[i].dataset) for i in (0, 1))
    assert strategy.fer_budget == {
        "steps": 2 * math.ceil((n_src + n_tgt) / 16),
        "target_passes": 2.0,
        "source_samples": 2 * n_src,
        "epochs": 2,
    }


def test_target_passes_with_batch_mixing_are_steps_of_the_target_share(bench):
    strategy = _train(_strategy("fusion-batch", bench, target_passes=2), bench)
    n_tgt = len(bench.train_stream[1].dataset)
    steps = math.ceil(2 * n_tgt / (0.5 * 16))
    budget = strategy.fer_budget
    assert budget["steps"] == steps and strategy.clock.train_iterations == steps
    assert budget["target_passes"] == pytest.approx(steps * 8 / n_tgt)
    assert 2 <= budget["target_passes"] < 2 + 8 / n_tgt
    assert budget["source_samples"] == steps * 8


def test_epochs_budget_is_recorded_with_source_samples(bench):
    strategy = _train(build("replay", bench, mem_size=30, epochs=2), bench)
    n_tgt = len(bench.train_stream[1].dataset)
    assert strategy.fer_budget == {
        "steps": 2 * math.ceil((n_tgt + 30) / 16),
        "target_passes": 2.0,
        "source_samples": 60,
        "epochs": 2,
    }


def test_memory_batches_appended_by_der_count_as_source_samples(bench):
    strategy = _train(_strategy_any("der", bench, mem_size=20, batch_size_mem=8, max_steps=5), bench)
    assert strategy.fer_budget["source_samples"] == 5 * 8


def _strategy_any(name, bench, **kwargs):
    return make_strategy(
        name, baseline_model(), source=bench.train_stream[0], batch_size=16, epochs=1, **kwargs
    )


def test_baseline_never_trains_and_reports_zeros(bench):
    strategy = build("baseline", bench)
    assert strategy.fer_budget == {"steps": 0, "target_passes": 0.0, "source_samples": 0, "epochs": 0}
    assert strategy.fer_budgets == []


def test_one_budget_at_a_time():
    with pytest.raises(ConfigError, match="max_steps .* or target_passes"):
        make_strategy("retrain", baseline_model(), max_steps=3, target_passes=1.0)


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"max_steps": 0}, "max_steps"), ({"target_passes": -1}, "target_passes")]
)
def test_bad_budgets_are_rejected(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        make_strategy("retrain", baseline_model(), **kwargs)
