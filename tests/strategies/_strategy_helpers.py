"""Shared helpers for the strategy tests: a tiny two-domain benchmark and spy plugins."""

from __future__ import annotations

import copy
from typing import Any

import torch

from fer_avalanche.benchmarks import cross_dataset_benchmark
from fer_avalanche.models import make_model
from fer_avalanche.strategies import get_strategy_spec, make_strategy, warm_start
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.training.plugins import SupervisedPlugin


#: Side of the test images: 24x24 keeps every convolution 4x cheaper than 48x48 (the whole folder runs
#: in well under a minute on 2 CPU cores); the model is built for the same size.
SIZE = 24

#: Memory sizes small enough for the tiny benchmarks, per strategy that keeps a memory.
SMALL = {
    "replay": {"mem_size": 20},
    "gdumb": {"mem_size": 20},
    "der": {"mem_size": 20},
    "agem": {"patterns_per_exp": 20, "sample_size": 16},
}


def tiny_benchmark(make_fer: Any, n_source: int = 140, n_targets: tuple[int, ...] = (70,)) -> Any:
    datasets = [make_fer("src", n=n_source, size=SIZE)]
    datasets += [
        make_fer(f"tgt{i}", n=n, seed=i + 1, shift=0.5 * (i + 1), size=SIZE) for i, n in enumerate(n_targets)
    ]
    return cross_dataset_benchmark(datasets)


def baseline_model(seed: int = 0) -> torch.nn.Module:
    """A width-8 FERNet with non-trivial BatchNorm buffers, as a trained baseline would have."""
    torch.manual_seed(seed)
    model = make_model(width=8, image_size=SIZE)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    return model


def validation_sets(name: str, bench: Any) -> dict[str, Any]:
    """``val_sets`` for a strategy that chooses on validation splits (``wise-ft``; the source first), else {}.

    The tiny benchmarks have no validation stream: their test sets stand in (these tests check
    training mechanics, not model selection)."""
    if not get_strategy_spec(name).needs_validation:
        return {}
    return {"val_sets": {exp.dataset_name: exp.dataset for exp in bench.test_stream}}


def build(name: str, bench: Any, model: torch.nn.Module | None = None, **kwargs: Any) -> Any:
    defaults: dict[str, Any] = dict(epochs=1, batch_size=16, eval_batch_size=64)
    defaults.update(validation_sets(name, bench))
    defaults.update(kwargs)
    return make_strategy(
        name,
        model if model is not None else baseline_model(),
        source=bench.train_stream[0].dataset,
        **defaults,
    )


def run_like_runner(strategy: Any, bench: Any, target: int = 1) -> None:
    """What the protocol runner does for one (strategy, target) cell: warm start, train, evaluate."""
    spec = strategy.fer_spec
    source = bench.train_stream[0]
    with quiet_third_party():
        if spec.trains == "target":
            warm_start(strategy, source)
            strategy.train(bench.train_stream[target], eval_streams=[])
        elif spec.trains == "joint":
            strategy.train([source, bench.train_stream[target]], eval_streams=[])
        strategy.eval(bench.test_stream)


def spec_options(name: str) -> dict[str, Any]:
    return dict(get_strategy_spec(name).options)


def snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def clone(model: torch.nn.Module) -> torch.nn.Module:
    return copy.deepcopy(model)


class Spy(SupervisedPlugin):
    """Calls ``fn(strategy)`` at the named hook."""

    def __init__(self, hook: str, fn: Any) -> None:
        super().__init__()
        setattr(self, hook, lambda strategy, **kwargs: fn(strategy))
