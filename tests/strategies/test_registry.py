"""The registry and factory: every named strategy runs end to end; regularisers regularise from step one."""

import pytest
import torch
from _strategy_helpers import SMALL, Spy, baseline_model, build, run_like_runner, tiny_benchmark

from fer_avalanche.errors import ConfigError
from fer_avalanche.strategies import (
    get_strategy_spec,
    list_strategies,
    make_strategy,
    register_strategy,
    warm_start,
)
from fer_avalanche.strategies.template import FastDataMixin
from fer_avalanche.strategies.warm_start import NotWarmStartedWarning
from fer_avalanche.utils import quiet_third_party

PAPER = ["baseline", "ft-fc", "ft-lastconv-fc", "retrain", "retrain-scratch", "fusion", "replay"]
AVALANCHE = ["naive", "lwf", "ewc", "si", "mas", "gdumb", "der", "agem", "joint"]
BEYOND = ["lp-ft", "wise-ft"]  # tested in test_beyond.py


@pytest.fixture(scope="module")
def bench():
    from conftest import tiny_fer

    return tiny_benchmark(tiny_fer, n_source=70, n_targets=(35,))


def test_every_documented_strategy_is_registered():
    assert list_strategies() == PAPER + AVALANCHE + BEYOND
    assert list_strategies("ft-*") == ["ft-fc", "ft-lastconv-fc"]
    assert {get_strategy_spec(n).trains for n in list_strategies()} == {"none", "target", "joint"}


@pytest.mark.parametrize("name", PAPER + AVALANCHE)
def test_every_strategy_trains_a_step_and_evaluates_on_all_test_sets(bench, name):
    model = baseline_model()
    before = [p.detach().clone() for p in model.parameters()]
    accs = []
    spy = Spy("after_eval_exp", lambda s: accs.append(s.experience.current_experience))
    strategy = build(name, bench, model, plugins=[spy], **SMALL.get(name, {}))
    assert (
        isinstance(strategy, FastDataMixin) and strategy.train_mb_size == 16 and strategy.eval_mb_size == 64
    )
    run_like_runner(strategy, bench)
    assert accs == [0, 1]
    changed = any(not torch.equal(b, p) for b, p in zip(before, strategy.model.parameters(), strict=True))
    assert changed == (get_strategy_spec(name).trains != "none")


def _penalties(name, bench, warm=True, **options):
    """Per-iteration regularisation term (loss - cross-entropy) on the first target experience."""
    values = []

    def record(s):
        values.append(s.loss.item() - torch.nn.functional.cross_entropy(s.mb_output, s.mb_y).item())

    strategy = build(name, bench, plugins=[Spy("before_backward", record)], augment=False, **options)
    with quiet_third_party():
        if warm:
            warm_start(strategy, bench.train_stream[0])
            strategy.train(bench.train_stream[1], eval_streams=[])
        else:
            with pytest.warns(NotWarmStartedWarning, match="no warm start"):
                strategy.train(bench.train_stream[1], eval_streams=[])
    return values


@pytest.mark.parametrize(
    ("name", "options"), [("lwf", {}), ("ewc", {}), ("mas", {}), ("si", {"si_lambda": 1e4})]
)
def test_regularisers_are_active_on_the_first_target_experience_after_warm_start(bench, name, options):
    values = _penalties(name, bench, **options)
    assert max(values) > 1e-6


def test_without_warm_start_lwf_adds_no_penalty(bench):
    assert max(abs(v) for v in _penalties("lwf", bench, warm=False)) < 1e-6


def test_warm_start_fills_state_from_the_baseline(bench):
    model = baseline_model()
    base = {k: v.detach().clone() for k, v in model.named_parameters()}
    strategy = build("ewc", bench, model)
    with quiet_third_party():
        assert warm_start(strategy, bench.train_stream[0]) == ["ewc"]
    ewc = next(p for p in strategy.plugins if type(p).__name__ == "EWCPlugin")
    assert all(torch.equal(ewc.saved_params[0][k].data, v) for k, v in base.items())
    assert sum(float(i.data.sum()) for i in ewc.importances[0].values()) > 0
    assert strategy.clock.train_exp_counter == 1
    assert all(torch.equal(p, base[k]) for k, p in strategy.model.named_parameters())  # not trained
    with pytest.raises(ConfigError, match="once"):
        warm_start(strategy, bench.train_stream[0])


def test_lwf_teacher_is_a_frozen_eval_copy_of_the_baseline(bench):
    strategy = build("lwf", bench)
    with quiet_third_party():
        warm_start(strategy, bench.train_stream[0])
    teacher = strategy.plugins[0].lwf.prev_model
    assert teacher is not strategy.model and not teacher.training
    assert not any(p.requires_grad for p in teacher.parameters())
    assert strategy.plugins[0].lwf.prev_classes_by_task[0] == set(range(7))


def test_unknown_strategy_names_it_and_suggests_the_closest():
    with pytest.raises(ConfigError, match=r"unknown strategy 'ft_fc'.*did you mean 'ft-fc'"):
        get_strategy_spec("ft_fc")


def test_unknown_option_names_it_and_the_valid_ones():
    with pytest.raises(ConfigError, match=r"'replay' has no option\(s\) \['memsize'\].*mem_size=500"):
        make_strategy("replay", torch.nn.Linear(2, 2), memsize=10)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"batch_size": 0}, "batch_size"),
        ({"lr": -1.0}, "lr"),
        ({"mode": "both"}, "mode"),
    ],
)
def test_bad_common_settings_are_rejected(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        make_strategy("ewc", torch.nn.Linear(2, 2), **kwargs)


def test_registering_a_taken_name_raises():
    with pytest.raises(ConfigError, match="already registered"):
        register_strategy("ft-fc", description="again")(lambda ctx: ctx.build())


def test_sgd_and_options_reach_the_strategy(bench):
    strategy = build("ewc", bench, optimizer="sgd", lr=0.05, momentum=0.5, ewc_lambda=3.0)
    assert isinstance(strategy.optimizer, torch.optim.SGD)
    assert strategy.optimizer.defaults["momentum"] == 0.5 and strategy.fer_options["ewc_lambda"] == 3.0


def test_default_evaluator_has_no_loggers_and_building_is_silent(recwarn):
    strategy = make_strategy("lwf", torch.nn.Linear(2, 2), augment=False)
    assert strategy.evaluator.loggers == [] and not recwarn.list
