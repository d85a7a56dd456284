"""``make_strategy``'s settings reach the template, optimizer and plugins; bad values are refused on the
right side of each boundary; ``register_strategy`` records what it is given (issue #23).

Building a strategy trains nothing (milliseconds per case). The values are off their defaults, so a
setting dropped on its way (or replaced by its default) fails here.
"""

import pytest
import torch
from _strategy_helpers import baseline_model, build, tiny_benchmark

from fer_avalanche.errors import ConfigError
from fer_avalanche.strategies import get_strategy_spec, list_strategies, make_strategy, register_strategy
from fer_avalanche.strategies import registry as registry_module
from fer_avalanche.strategies.plugins import SourceRehearsalPlugin
from fer_avalanche.strategies.plugins.absent import AbsentClassPlugin
from fer_avalanche.strategies.plugins.augment import BatchAugmentPlugin
from fer_avalanche.strategies.plugins.budget import BudgetPlugin
from fer_avalanche.strategies.plugins.freeze import FreezePlugin
from fer_avalanche.strategies.plugins.reset import ResetModelPlugin
from fer_avalanche.strategies.plugins.validation import ValidationPlugin
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.training.plugins import EvaluationPlugin


@pytest.fixture(scope="module")
def bench():
    from conftest import tiny_fer

    return tiny_benchmark(tiny_fer, n_source=70, n_targets=(35,))


def _one(strategy, kind):
    found = [p for p in strategy.plugins if isinstance(p, kind)]
    assert len(found) == 1, f"{kind.__name__}: {strategy.plugins}"
    return found[0]


def _linear():
    return torch.nn.Linear(2, 2)


# ------------------------------------------------------------------------------ defaults
def test_make_strategy_defaults_are_the_documented_ones():
    strategy = make_strategy("retrain", _linear())
    assert isinstance(strategy.optimizer, torch.optim.Adam)
    group = strategy.optimizer.param_groups[0]
    assert group["lr"] == 1e-3 and group["weight_decay"] == 0.0
    assert (strategy.train_mb_size, strategy.eval_mb_size, strategy.train_epochs) == (64, 512, 10)
    assert strategy.fer_seed == 0 and strategy.data_generator.initial_seed() == 0
    assert strategy.device == torch.device("cpu") and strategy.compile is False
    assert _one(strategy, BatchAugmentPlugin).seed == 0  # augmentation on by default
    budget = _one(strategy, BudgetPlugin)
    assert (budget.epochs, budget.max_steps, budget.target_passes, budget.epoch_steps) == (
        10,
        None,
        None,
        False,
    )
    assert not any(isinstance(p, ValidationPlugin | AbsentClassPlugin) for p in strategy.plugins)
    assert strategy.fer_absent_classes == "train"


#: Every registered strategy's options and their defaults, as README's strategy table documents them.
DEFAULTS = {
    "fusion": {"from_scratch": False, "grow_with_targets": True, "mix": "concat", "target_fraction": None},
    "replay": {"mem_size": 500, "selection": "class_balanced", "grow_with_targets": True, "mix": "concat",
               "target_fraction": None},
    "lwf": {"alpha": 1.0, "temperature": 2.0},
    "ewc": {"ewc_lambda": 1000.0, "mode": "separate", "decay_factor": None},
    "si": {"si_lambda": 1.0},
    "mas": {"lambda_reg": 1.0, "alpha": 0.5},
    "gdumb": {"mem_size": 500},
    "der": {"mem_size": 500, "alpha": 0.1, "beta": 0.5, "batch_size_mem": None},
    "agem": {"patterns_per_exp": 500, "sample_size": 64},
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_a_strategys_options_and_defaults(name):
    assert get_strategy_spec(name).options == DEFAULTS[name]


@pytest.mark.parametrize(
    "name", ["baseline", "ft-fc", "ft-lastconv-fc", "retrain", "retrain-scratch", "naive"]
)
def test_the_paper_strategies_have_no_options(name):
    assert get_strategy_spec(name).options == {}


# ------------------------------------------------------------------------------ settings reach
@pytest.mark.parametrize(
    ("optimizer", "kind"),
    [("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW), ("sgd", torch.optim.SGD)],
)
def test_the_optimizer_gets_its_lr_and_weight_decay(optimizer, kind):
    strategy = make_strategy(
        "retrain", _linear(), optimizer=optimizer, lr=0.025, weight_decay=0.125, momentum=0.5
    )
    assert type(strategy.optimizer) is kind
    group = strategy.optimizer.param_groups[0]
    assert group["lr"] == 0.025 and group["weight_decay"] == 0.125
    assert len(group["params"]) == 2  # every parameter (freezing strategies prune it later)
    if optimizer == "sgd":
        assert group["momentum"] == 0.5


def test_sgd_momentum_defaults_to_0_9():
    group = make_strategy("retrain", _linear(), optimizer="sgd").optimizer.param_groups[0]
    assert group["momentum"] == 0.9 and group["lr"] == 1e-3


def test_the_template_gets_the_sizes_epochs_seed_device_and_evaluator():
    evaluator = EvaluationPlugin()
    strategy = make_strategy(
        "retrain",
        _linear(),
        batch_size=13,
        eval_batch_size=29,
        epochs=3,
        seed=5,
        evaluator=evaluator,
        device="cpu",
    )
    assert (strategy.train_mb_size, strategy.eval_mb_size, strategy.train_epochs) == (13, 29, 3)
    assert strategy.evaluator is evaluator
    assert strategy.fer_seed == 5 and strategy.data_generator.initial_seed() == 5
    assert _one(strategy, BatchAugmentPlugin).seed == 5
    assert _one(strategy, BudgetPlugin).epochs == 3


def test_compile_reaches_the_template():
    strategy = make_strategy("retrain", _linear(), compile=True)
    assert strategy.compile is True and strategy.model._compiled_call_impl is not None


def test_augment_false_builds_no_augmentation():
    plugins = make_strategy("retrain", _linear(), augment=False).plugins
    assert not any(isinstance(p, BatchAugmentPlugin) for p in plugins) and None not in plugins


@pytest.mark.parametrize(
    ("kwargs", "read"),
    [
        ({"max_steps": 7}, lambda b: (b.max_steps, b.target_passes, b.epoch_steps) == (7, None, False)),
        (
            {"target_passes": 1.5},
            lambda b: (b.max_steps, b.target_passes, b.epoch_steps) == (None, 1.5, False),
        ),
        (
            {"epoch_steps": True},
            lambda b: (b.max_steps, b.target_passes, b.epoch_steps) == (None, None, True),
        ),
    ],
)
def test_each_budget_cap_reaches_the_budget_plugin(kwargs, read):
    assert read(_one(make_strategy("retrain", _linear(), **kwargs), BudgetPlugin))


def test_validation_settings_reach_the_validation_plugin_which_runs_first(bench):
    val_sets = {exp.dataset_name: exp.dataset for exp in bench.test_stream}
    strategy = build(
        "ft-fc",
        bench,
        val_sets=val_sets,
        select="best_val",
        patience=3,
        eval_every=2,
        monitor="mean",
        absent_classes="mask",
    )
    plugin = strategy.plugins[0]
    assert isinstance(plugin, ValidationPlugin)
    assert (plugin.select, plugin.patience, plugin.eval_every, plugin.monitor) == ("best_val", 3, 2, "mean")
    assert list(plugin.val_sets) == list(val_sets)
    steps = build("ft-fc", bench, val_sets=val_sets, select="best_val", patience_steps=9).plugins[0]
    assert steps.patience_steps == 9
    # order: validation, the strategy's own, augmentation, absent-class masking, the budget last
    kinds = [type(p) for p in strategy.plugins if type(p).__module__.startswith("fer_avalanche")]
    assert kinds[:2] == [ValidationPlugin, FreezePlugin]
    assert kinds[-3:] == [BatchAugmentPlugin, AbsentClassPlugin, BudgetPlugin]


def test_eval_every_alone_builds_the_validation_plugin(bench):
    val_sets = {exp.dataset_name: exp.dataset for exp in bench.test_stream}
    assert isinstance(build("retrain", bench, val_sets=val_sets, eval_every=1).plugins[0], ValidationPlugin)
    assert not any(
        isinstance(p, ValidationPlugin) for p in build("retrain", bench, val_sets=val_sets).plugins
    )


def test_the_users_plugins_come_after_the_strategys_own_and_before_augmentation(bench):
    mine = FreezePlugin(["features"])
    kinds = [p for p in build("retrain-scratch", bench, plugins=[mine], seed=3).plugins]
    assert isinstance(kinds[0], ResetModelPlugin) and kinds[0].seed == 3
    assert kinds[1] is mine and isinstance(kinds[2], BatchAugmentPlugin)


# ------------------------------------------------------------------------------ the source
def _warm_starts(monkeypatch):
    calls = []
    monkeypatch.setattr(
        registry_module, "warm_start", lambda strategy, experience: calls.append((strategy, experience))
    )
    return calls


def test_a_source_experience_warm_starts_a_target_strategy_once(bench, monkeypatch):
    calls = _warm_starts(monkeypatch)
    strategy = make_strategy("lwf", baseline_model(), source=bench.train_stream[0], epochs=1)
    assert calls == [(strategy, bench.train_stream[0])]


@pytest.mark.parametrize("name", ["baseline", "joint"])
def test_a_strategy_that_trains_no_target_is_not_warm_started(bench, monkeypatch, name):
    calls = _warm_starts(monkeypatch)
    make_strategy(name, baseline_model(), source=bench.train_stream[0], epochs=1)
    assert calls == []


def test_a_source_dataset_feeds_rehearsal_but_warm_starts_nothing(bench, monkeypatch):
    calls = _warm_starts(monkeypatch)
    dataset = bench.train_stream[0].dataset
    strategy = make_strategy("fusion", baseline_model(), source=dataset, epochs=1)
    assert calls == []
    assert _one(strategy, SourceRehearsalPlugin).datasets[0] is dataset


def test_a_source_experience_gives_rehearsal_its_dataset(bench, monkeypatch):
    _warm_starts(monkeypatch)
    experience = bench.train_stream[0]
    strategy = make_strategy("replay", baseline_model(), source=experience, epochs=1, mem_size=9, seed=2)
    plugin = _one(strategy, SourceRehearsalPlugin)
    assert plugin.datasets[0] is experience.dataset and len(plugin) == 9 and plugin.seed == 2
    assert (
        _one(make_strategy("fusion", baseline_model(), source=experience, seed=4), SourceRehearsalPlugin).seed
        == 4
    )


@pytest.mark.parametrize("name", ["fusion", "replay"])
def test_a_rehearsal_strategy_without_a_source_says_so(name):
    message = rf"^strategy {name!r} trains on source data: pass source=<the source's training experience> "
    with pytest.raises(
        ConfigError, match=message + r"\(e\.g\. benchmark\.train_stream\[0\]\) to make_strategy$"
    ):
        make_strategy(name, _linear())


# ------------------------------------------------------------------------------ common checks
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lr": 0}, r"^lr must be a number > 0, got 0$"),
        ({"lr": "0.1"}, r"^lr must be a number > 0, got '0.1'$"),
        ({"weight_decay": -0.5}, r"^weight_decay must be >= 0, got -0.5$"),
        ({"weight_decay": "0"}, r"^weight_decay must be >= 0, got '0'$"),
        ({"momentum": 1}, r"^momentum must be in \[0, 1\), got 1$"),
        ({"momentum": -0.5}, r"^momentum must be in \[0, 1\), got -0.5$"),
        ({"momentum": "0.5"}, r"^momentum must be in \[0, 1\), got '0.5'$"),
        ({"epochs": 0}, r"^epochs must be an int >= 1, got 0$"),
        ({"batch_size": 0}, r"^batch_size must be an int >= 1, got 0$"),
        ({"eval_batch_size": 0}, r"^eval_batch_size must be an int >= 1, got 0$"),
        ({"seed": 1.5}, r"^seed must be an int, got 1.5$"),
        ({"compile": 1}, r"^compile must be True or False, got 1$"),
        ({"optimizer": "rmsprop"}, r"^optimizer must be one of \['adam', 'adamw', 'sgd'\], got 'rmsprop'$"),
    ],
)
def test_a_bad_common_setting_is_refused_with_its_name_and_value(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        make_strategy("retrain", _linear(), **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": 1e-9},
        {"weight_decay": 0},
        {"momentum": 0},
        {"momentum": 0.99},
        {"epochs": 1},
        {"batch_size": 1},
        {"eval_batch_size": 1},
    ],
)
def test_a_common_setting_on_the_edge_is_accepted(kwargs):
    make_strategy("retrain", _linear(), **kwargs)


def test_a_model_that_is_not_a_module_is_refused_with_its_type():
    with pytest.raises(ConfigError, match=r"^model must be a torch.nn.Module, got dict$"):
        make_strategy("retrain", {})


def test_unknown_options_list_the_valid_ones_or_none():
    with pytest.raises(
        ConfigError, match=r"^strategy 'ft-fc' has no option\(s\) \['alpha'\]; valid options: none$"
    ):
        make_strategy("ft-fc", _linear(), alpha=1.0)
    with pytest.raises(ConfigError, match=r"valid options: alpha=1.0, temperature=2.0$"):
        make_strategy("lwf", _linear(), beta=1.0, gamma=2.0)


# ------------------------------------------------------------------------------ option checks
#: (strategy, options refused, message) and (strategy, options accepted): both sides of each boundary.
REFUSED = [
    ("der", {"mem_size": 0}, r"^der mem_size must be an int >= 1, got 0$"),
    ("der", {"mem_size": 2.0}, r"^der mem_size must be an int >= 1, got 2.0$"),
    ("der", {"alpha": -0.5}, r"^der alpha must be >= 0, got -0.5$"),
    ("der", {"alpha": "1"}, r"^der alpha must be >= 0, got '1'$"),
    ("der", {"beta": -0.5}, r"^der beta must be >= 0, got -0.5$"),
    ("der", {"beta": "1"}, r"^der beta must be >= 0, got '1'$"),
    ("der", {"batch_size_mem": 0}, r"^der batch_size_mem must be an int >= 1 or None, got 0$"),
    ("der", {"batch_size_mem": 2.0}, r"^der batch_size_mem must be an int >= 1 or None, got 2.0$"),
    ("gdumb", {"mem_size": 0}, r"^gdumb mem_size must be an int >= 1, got 0$"),
    ("gdumb", {"mem_size": 2.0}, r"^gdumb mem_size must be an int >= 1, got 2.0$"),
    ("agem", {"patterns_per_exp": 0}, r"^agem patterns_per_exp must be an int >= 1, got 0$"),
    ("agem", {"patterns_per_exp": 2.0}, r"^agem patterns_per_exp must be an int >= 1, got 2.0$"),
    ("agem", {"sample_size": 0}, r"^agem sample_size must be an int >= 1, got 0$"),
    ("agem", {"sample_size": 2.0}, r"^agem sample_size must be an int >= 1, got 2.0$"),
    ("si", {"si_lambda": -0.5}, r"^si si_lambda must be >= 0, got -0.5$"),
    ("si", {"si_lambda": "1"}, r"^si si_lambda must be >= 0, got '1'$"),
    ("ewc", {"ewc_lambda": -0.5}, r"^ewc ewc_lambda must be >= 0, got -0.5$"),
    ("ewc", {"ewc_lambda": "1"}, r"^ewc ewc_lambda must be >= 0, got '1'$"),
    ("ewc", {"mode": "both"}, r"^ewc mode must be 'separate' or 'online', got 'both'$"),
    ("ewc", {"decay_factor": 0.5},
     r"^ewc decay_factor must be in \[0, 1\] and is used only with mode='online', "
     r"got 0.5 \(mode='separate'\)$"),
    ("ewc", {"mode": "online", "decay_factor": 1.5}, r"decay_factor .*got 1.5 \(mode='online'"),
    ("ewc", {"mode": "online", "decay_factor": -0.5}, r"decay_factor .*got -0.5 \(mode='online'"),
    ("ewc", {"mode": "online", "decay_factor": "1"}, r"decay_factor .*got '1' \(mode='online'"),
    ("fusion", {"from_scratch": 1}, r"^fusion from_scratch must be True or False, got 1$"),
]  # fmt: skip

ACCEPTED = [
    ("der", {"mem_size": 1, "alpha": 0, "beta": 0, "batch_size_mem": 1}),
    ("gdumb", {"mem_size": 1}),
    ("agem", {"patterns_per_exp": 1, "sample_size": 1}),
    ("si", {"si_lambda": 0}),
    ("ewc", {"ewc_lambda": 0}),
    ("ewc", {"mode": "online", "decay_factor": 0}),
    ("ewc", {"mode": "online", "decay_factor": 1}),
]


@pytest.mark.parametrize(("name", "options", "match"), REFUSED)
def test_a_bad_strategy_option_is_refused_with_its_name_and_value(bench, name, options, match):
    with pytest.raises(ConfigError, match=match):
        build(name, bench, **options)


@pytest.mark.parametrize(("name", "options"), ACCEPTED)
def test_a_strategy_option_on_the_edge_is_accepted(bench, name, options):
    strategy = build(name, bench, **options)
    assert {k: strategy.fer_options[k] for k in options} == options


# ------------------------------------------------------------------------------ register_strategy
@pytest.fixture
def scratch_registry(monkeypatch):
    """Registrations in a test are undone after it."""
    strategies = registry_module.STRATEGIES
    monkeypatch.setattr(strategies, "_entries", dict(strategies._entries))
    monkeypatch.setattr(strategies, "_aliases", dict(strategies._aliases))
    return strategies


def test_register_strategy_records_what_it_is_given(scratch_registry):
    def builder(ctx, *, width=3, mode="x"):
        return ctx.build()

    returned = register_strategy(
        "my-test", description="a test strategy", trains="joint", needs_source=True, needs_validation=True
    )(builder)
    assert returned is builder
    spec = get_strategy_spec("my-test")
    assert (spec.name, spec.description, spec.trains, spec.builder) == (
        "my-test",
        "a test strategy",
        "joint",
        builder,
    )
    assert spec.options == {"width": 3, "mode": "x"}  # keyword-only parameters only
    assert (spec.needs_source, spec.trains_on_source, spec.needs_validation) == (True, True, True)
    assert list_strategies("my-*") == ["my-test"]
    register_strategy("my-other", description="d", needs_source=True, trains_on_source=False)(
        lambda ctx: None
    )
    assert (
        _flags("my-other") == ("target", True, False, False) and get_strategy_spec("my-other").options == {}
    )
    register_strategy("my-plain", description="d")(lambda ctx: None)
    assert _flags("my-plain") == ("target", False, False, False)  # the defaults


def _flags(name):
    spec = get_strategy_spec(name)
    return spec.trains, spec.needs_source, spec.trains_on_source, spec.needs_validation


def test_register_strategy_refuses_a_taken_name_and_a_bad_trains(scratch_registry):
    with pytest.raises(ConfigError, match=r"^strategy 'ft-fc' is already registered \(paper 'FC': fine-tune"):
        register_strategy("ft-fc", description="again")(lambda ctx: None)
    with pytest.raises(
        ConfigError,
        match=r"^register_strategy\('x'\): trains must be one of \['none', 'target', 'joint'\], got 'all'$",
    ):
        register_strategy("x", description="d", trains="all")
