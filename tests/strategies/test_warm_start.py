"""Warm start by construction, the plugin hook, and what happens without a source."""

import random
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _strategy_helpers import Spy, baseline_model, tiny_benchmark

from fer_avalanche.errors import ConfigError
from fer_avalanche.strategies import NotWarmStartedWarning, make_strategy, warm_start
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.training.plugins import SupervisedPlugin


@pytest.fixture(scope="module")
def bench():
    from conftest import tiny_fer

    return tiny_benchmark(tiny_fer, n_source=70, n_targets=(35,))


def _first_losses(name, bench, **kwargs):
    """(total loss, cross-entropy) of the first training batch."""
    seen = []

    def record(s):
        if not seen:
            seen.append((s.loss.item(), F.cross_entropy(s.mb_output, s.mb_y).item()))

    strategy = make_strategy(
        name,
        baseline_model(),
        batch_size=16,
        epochs=1,
        augment=False,
        plugins=[Spy("after_backward", record)],
        **kwargs,
    )
    with quiet_third_party():
        strategy.train(bench.train_stream[1], eval_streams=[])
    return seen[0]


def test_lwf_given_the_source_experience_regularises_from_the_first_batch(bench):
    naive_loss, naive_ce = _first_losses("naive", bench, source=bench.train_stream[0])
    lwf_loss, lwf_ce = _first_losses("lwf", bench, source=bench.train_stream[0])
    assert lwf_ce == pytest.approx(naive_ce)  # same model, same first batch
    assert lwf_loss > naive_loss + 1e-4  # plus the distillation term towards the baseline


@pytest.mark.parametrize("name", ["lwf", "ewc", "si", "mas", "gdumb", "der", "agem"])
def test_regularisers_built_with_the_source_experience_are_warm(bench, name):
    strategy = make_strategy(name, baseline_model(), source=bench.train_stream[0], batch_size=16)
    assert strategy.fer_warm_started and strategy.clock.train_exp_counter == 1


def test_a_second_warm_start_is_refused(bench):
    strategy = make_strategy("lwf", baseline_model(), source=bench.train_stream[0])
    with pytest.raises(ConfigError, match="once.*already warm-started"):
        warm_start(strategy, bench.train_stream[0])


def test_the_older_call_still_warm_starts_once(bench):
    strategy = make_strategy("lwf", baseline_model(), source=bench.train_stream[0].dataset)
    assert not getattr(strategy, "fer_warm_started", False)
    assert warm_start(strategy, bench.train_stream[0]) == ["lwf"]
    with pytest.raises(ConfigError, match="once"):
        warm_start(strategy, bench.train_stream[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", NotWarmStartedWarning)
        strategy.train(bench.train_stream[1], eval_streams=[])


def test_a_regulariser_without_the_source_warns_at_its_first_training_experience(bench):
    strategy = make_strategy("ewc", baseline_model(), batch_size=16, epochs=1)
    with pytest.warns(NotWarmStartedWarning, match="ewc: training starts without the source"):
        strategy.train(bench.train_stream[1], eval_streams=[])
    with warnings.catch_warnings():
        warnings.simplefilter("error", NotWarmStartedWarning)
        strategy.train(bench.train_stream[1], eval_streams=[])  # once is enough


def test_strategies_that_need_no_source_do_not_warn(bench):
    strategy = make_strategy("retrain", baseline_model(), batch_size=16, epochs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NotWarmStartedWarning)
        strategy.train(bench.train_stream[1], eval_streams=[])


def test_a_user_plugin_with_a_warm_start_hook_gets_the_source(bench):
    class SourceCounter(SupervisedPlugin):
        def __init__(self):
            super().__init__()
            self.seen = None

        def warm_start(self, strategy, source_experience):
            self.seen = len(source_experience.dataset)

    plugin = SourceCounter()
    make_strategy("retrain", baseline_model(), source=bench.train_stream[0], plugins=[plugin])
    assert plugin.seen == len(bench.train_stream[0].dataset)


def test_warm_start_neither_reads_nor_moves_the_global_random_state(bench):
    def buffer_and_draw(global_seed):
        random.seed(global_seed)
        np.random.seed(global_seed)
        torch.manual_seed(global_seed)
        strategy = make_strategy(
            "agem", baseline_model(), source=bench.train_stream[0], patterns_per_exp=10, seed=5
        )
        buffer = [int(y) for y in strategy.plugins[0].buffers[0].targets]
        return buffer, (random.random(), float(np.random.rand()), float(torch.rand(1)))

    buffer_a, draws_a = buffer_and_draw(1)
    buffer_b, _ = buffer_and_draw(2)
    assert buffer_a == buffer_b  # A-GEM's random sample comes from the strategy's seed
    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)
    baseline_model()  # buffer_and_draw built one model after seeding too
    assert draws_a == (random.random(), float(np.random.rand()), float(torch.rand(1)))
