"""FreezePlugin: frozen parts are bit-identical, out of the optimizer, and their BatchNorm stays put."""

import pytest
import torch
from _strategy_helpers import Spy, baseline_model, build, run_like_runner, snapshot, tiny_benchmark

from fer_avalanche.errors import ConfigError
from fer_avalanche.strategies.plugins import FreezePlugin
from fer_avalanche.utils import quiet_third_party

FROZEN = {"ft-fc": ("features", "last_conv"), "ft-lastconv-fc": ("features",)}


@pytest.fixture
def bench(make_fer):
    return tiny_benchmark(make_fer, n_targets=(35, 35))


@pytest.mark.parametrize("name", sorted(FROZEN))
def test_frozen_parts_do_not_change_and_trainable_parts_do(bench, name):
    model = baseline_model()
    before = snapshot(model)
    strategy = build(name, bench, model, epochs=2)
    run_like_runner(strategy, bench)
    after = snapshot(strategy.model)
    frozen = FROZEN[name]
    for key, value in before.items():
        if key.split(".")[0] in frozen:  # weights and BN running stats alike
            assert torch.equal(value, after[key]), f"{key} changed although frozen"
    trainable = [k for k in before if k.split(".")[0] not in frozen and k.endswith("weight")]
    assert trainable and all(not torch.equal(before[k], after[k]) for k in trainable)


@pytest.mark.parametrize("name", sorted(FROZEN))
def test_frozen_parameters_are_absent_from_the_optimizer_on_every_experience(bench, name):
    strategy = build(name, bench)
    frozen_ids = {id(p) for part in FROZEN[name] for p in getattr(strategy.model, part).parameters()}
    seen = []

    def check(s):
        ids = {id(p) for g in s.optimizer.param_groups for p in g["params"]}
        seen.append((ids & frozen_ids, len(ids)))

    strategy.plugins.append(Spy("before_training_epoch", check))
    with quiet_third_party():
        strategy.train(bench.train_stream[1], eval_streams=[])
        strategy.train(bench.train_stream[2], eval_streams=[])
    n_trainable = sum(1 for p in strategy.model.parameters() if p.requires_grad)
    assert seen == [(set(), n_trainable)] * 2
    assert not any(id(p) in frozen_ids for p in strategy.optimizer.state)


def test_frozen_parts_stay_in_eval_mode_during_training(bench):
    strategy = build("ft-fc", bench)
    modes = []
    strategy.plugins.append(
        Spy(
            "after_training_iteration",
            lambda s: modes.append((s.model.features.training, s.model.classifier.training)),
        )
    )
    with quiet_third_party():
        strategy.train(bench.train_stream[1], eval_streams=[])
    assert modes and set(modes) == {(False, True)}


def test_unknown_part_names_the_part_and_the_valid_top_level_names(bench):
    strategy = build("naive", bench, plugins=[FreezePlugin(["features", "backbone"])])
    with pytest.raises(ConfigError, match=r"backbone.*features.*last_conv.*classifier"), quiet_third_party():
        strategy.train(bench.train_stream[1], eval_streams=[])


def test_dotted_submodule_names_can_be_frozen(bench):
    model = baseline_model()
    before = model.classifier[1].weight.detach().clone()
    strategy = build("naive", bench, model, plugins=[FreezePlugin(["classifier.1"])])
    with quiet_third_party():
        strategy.train(bench.train_stream[1], eval_streams=[])
    assert torch.equal(before, strategy.model.classifier[1].weight)


@pytest.mark.parametrize("parts", [[], [""], [3]])
def test_bad_part_lists_are_rejected(parts):
    with pytest.raises(ConfigError, match="FreezePlugin"):
        FreezePlugin(parts)
