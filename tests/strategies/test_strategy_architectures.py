"""Every named strategy works with every architecture; freezing follows the named parts of ``paper``."""

import pytest
import torch
from _strategy_helpers import SMALL, validation_sets

from fer_avalanche.benchmarks import cross_dataset_benchmark
from fer_avalanche.models import list_architectures, make_model
from fer_avalanche.strategies import get_strategy_spec, list_strategies, make_strategy
from fer_avalanche.utils import quiet_third_party

#: 32x32: at least 28 (the ``paper`` layout) and divisible by 8 (``fernet``).
SIZE = 32


@pytest.fixture(scope="module")
def bench():
    from conftest import tiny_fer

    return cross_dataset_benchmark(
        [tiny_fer("src", n=70, size=SIZE), tiny_fer("tgt", n=35, seed=1, shift=0.5, size=SIZE)]
    )


def _model(arch):
    torch.manual_seed(0)
    return make_model(arch, width=4, image_size=SIZE)


def _train(strategy, bench):
    with quiet_third_party():
        if strategy.fer_spec.trains == "joint":
            strategy.train([bench.train_stream[0], bench.train_stream[1]], eval_streams=[])
        elif strategy.fer_spec.trains == "target":
            strategy.train(bench.train_stream[1], eval_streams=[])
    return strategy


@pytest.mark.parametrize("arch", list_architectures())
def test_every_strategy_trains_two_steps_with_every_architecture(bench, arch):
    failed = {}
    for name in list_strategies():
        model = _model(arch)
        before = [p.detach().clone() for p in model.parameters()]
        try:
            strategy = make_strategy(
                name,
                model,
                source=bench.train_stream[0],
                batch_size=16,
                max_steps=2,
                **SMALL.get(name, {}),
                **validation_sets(name, bench),
            )
            _train(strategy, bench)
        except Exception as exc:  # collect every failure of this architecture, not just the first
            failed[name] = f"{type(exc).__name__}: {exc}"
            continue
        trains = get_strategy_spec(name).trains != "none"
        changed = any(not torch.equal(b, p) for b, p in zip(before, strategy.model.parameters(), strict=True))
        if changed != trains or strategy.fer_budget["steps"] != (2 if trains else 0):
            failed[name] = f"changed={changed}, budget={strategy.fer_budget}"
    assert not failed, failed


def _changed_parts(name, bench):
    model = _model("paper")
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    strategy = _train(
        make_strategy(name, model, source=bench.train_stream[0], batch_size=16, epochs=2), bench
    )
    after = dict(strategy.model.named_parameters())
    return {k.split(".")[0] for k in before if not torch.equal(before[k], after[k])}, set(
        k.split(".")[0] for k in before
    )


def test_ft_fc_trains_only_the_fc_layers_of_the_paper_network(bench):
    changed, parts = _changed_parts("ft-fc", bench)
    assert parts == {"features", "last_conv", "classifier"}
    assert changed == {"classifier"}


def test_ft_lastconv_fc_trains_only_the_last_conv_layer_and_the_fc_layers(bench):
    changed, _ = _changed_parts("ft-lastconv-fc", bench)
    assert changed == {"last_conv", "classifier"}
    model = _model("paper")
    convs = [m for m in model.last_conv.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 1  # the paper's "last conv" is one layer


def test_narrow_resnet_shortcuts_stay_nchw_on_cpu():
    """torch 2.14.1's oneDNN backward of a strided 1x1 conv over < 16 channels crashes in channels_last."""
    narrow = make_strategy("retrain", make_model("resnet18", width=8, image_size=SIZE))
    assert narrow.channels_last is False
    wide = make_strategy("retrain", make_model("resnet18", width=16, image_size=SIZE))
    assert wide.channels_last is torch.backends.mkldnn.is_available()
