"""Checkpointing a strategy between experiences and continuing from the checkpoint is bit-identical."""

from __future__ import annotations

import io
from typing import Any

import pytest
import torch
from _strategy_helpers import baseline_model, build, tiny_benchmark

from fer_avalanche.errors import CheckpointError
from fer_avalanche.strategies import get_strategy_spec, list_strategies
from fer_avalanche.strategies.state import (
    load_rng_state,
    load_strategy_state,
    register_state,
    rng_state,
    strategy_state,
)
from fer_avalanche.utils import quiet_third_party, seed_everything

with quiet_third_party():
    from avalanche.training.plugins import SupervisedPlugin

#: Every registered strategy that trains on targets one after the other (joint is rebuilt per step).
SEQUENTIAL = [n for n in list_strategies() if get_strategy_spec(n).trains == "target"]

#: Small memories so the buffers are really subsampled (and rebalanced) with these tiny datasets.
OPTIONS: dict[str, dict[str, Any]] = {
    "replay": {"mem_size": 30},
    "gdumb": {"mem_size": 30},
    "der": {"mem_size": 30},
    "agem": {"patterns_per_exp": 20, "sample_size": 16},
}


@pytest.fixture(scope="module")
def bench() -> Any:
    from conftest import tiny_fer

    return tiny_benchmark(tiny_fer, n_source=105, n_targets=(60, 60))


def _datasets(bench: Any) -> list[Any]:
    return [exp.dataset for exp in bench.train_stream]


def _fresh(name: str, bench: Any) -> Any:
    seed_everything(7)
    strategy = build(name, bench, baseline_model(), seed=3, **OPTIONS.get(name, {}))
    with quiet_third_party():
        strategy.fer_spec.warm_start(strategy, bench.train_stream[0])
    return strategy


def _train(strategy: Any, exp: Any) -> None:
    with quiet_third_party():
        strategy.train(exp, eval_streams=[])


def _roundtrip(state: dict[str, Any]) -> dict[str, Any]:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)  # never unpickles arbitrary objects


def _weights(strategy: Any) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in strategy.model.state_dict().items()}


@pytest.mark.parametrize("name", [n for n in SEQUENTIAL if n != "agem"])
def test_resumed_strategy_continues_bit_identically(name, bench):
    if name not in OPTIONS and "mem_size" in get_strategy_spec(name).options:
        pytest.fail(f"{name}: add small memory options to OPTIONS")
    datasets = _datasets(bench)
    original = _fresh(name, bench)
    _train(original, bench.train_stream[1])
    state = _roundtrip(strategy_state(original, datasets))
    _train(original, bench.train_stream[2])
    expected = _weights(original)

    torch.manual_seed(12345)  # whatever the new process's RNGs hold, the checkpoint's win
    resumed = _fresh(name, bench)
    load_strategy_state(resumed, state, datasets)
    _train(resumed, bench.train_stream[2])
    got = _weights(resumed)
    assert expected.keys() == got.keys()
    changed = [k for k in expected if not torch.equal(expected[k], got[k])]
    assert not changed, f"{name}: weights differ after resuming: {changed[:4]}"
    assert resumed.clock.train_exp_counter == original.clock.train_exp_counter


@pytest.mark.slow
def test_agem_resumes_bit_identically(bench):
    datasets = _datasets(bench)
    original = _fresh("agem", bench)
    _train(original, bench.train_stream[1])
    state = _roundtrip(strategy_state(original, datasets))
    _train(original, bench.train_stream[2])
    resumed = _fresh("agem", bench)
    load_strategy_state(resumed, state, datasets)
    _train(resumed, bench.train_stream[2])
    for (k, a), b in zip(
        original.model.state_dict().items(), resumed.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), k


def test_buffers_are_indices_not_images(bench):
    strategy = _fresh("gdumb", bench)
    _train(strategy, bench.train_stream[1])
    state = strategy_state(strategy, _datasets(bench))
    pixels = 24 * 24  # SIZE x SIZE images would be uint8 tensors of a multiple of this many values
    images = [t.shape for t in _tensors(state["parts"]) if t.dtype == torch.uint8 and t.numel() % pixels == 0]
    assert not images
    indices = [t for t in _tensors(state["parts"]) if t.dtype == torch.long and t.dim() == 1]
    assert sum(len(t) for t in indices) >= 30  # the buffer is there, as sample indices
    buffer = io.BytesIO()
    torch.save(state, buffer)
    assert buffer.tell() < 2_000_000  # the model + indices, not 30 images per class


def _tensors(node: Any) -> list[torch.Tensor]:
    if isinstance(node, torch.Tensor):
        return [node]
    if isinstance(node, dict):
        return [t for v in node.values() for t in _tensors(v)]
    if isinstance(node, list | tuple):
        return [t for v in node for t in _tensors(v)]
    return []


def test_state_from_another_strategy_is_refused(bench):
    state = strategy_state(_fresh("ewc", bench), _datasets(bench))
    with pytest.raises(CheckpointError, match="parts"):
        load_strategy_state(_fresh("lwf", bench), state, _datasets(bench))


def test_state_of_another_version_is_refused(bench):
    state = strategy_state(_fresh("retrain", bench), _datasets(bench))
    state["version"] = 999
    with pytest.raises(CheckpointError, match="version 999"):
        load_strategy_state(_fresh("retrain", bench), state, _datasets(bench))


def test_unregistered_plugin_is_named(bench):
    class Opaque(SupervisedPlugin):
        pass

    strategy = build("retrain", bench, plugins=[Opaque()])
    with pytest.raises(CheckpointError, match="Opaque"):
        strategy_state(strategy, _datasets(bench))


def test_registered_plugin_state_roundtrips(bench):
    class Counter(SupervisedPlugin):
        def __init__(self) -> None:
            super().__init__()
            self.seen = 0
            self.history: dict[int, set[int]] = {}

        def after_training_exp(self, strategy: Any, **kwargs: Any) -> None:
            self.seen += 1
            self.history[self.seen] = {int(c) for c in strategy.experience.dataset.targets}

    register_state(Counter, ["seen", "history"])
    strategy = build("retrain", bench, plugins=[Counter()])
    _train(strategy, bench.train_stream[1])
    state = _roundtrip(strategy_state(strategy, _datasets(bench)))
    fresh = build("retrain", bench, plugins=[Counter()])
    load_strategy_state(fresh, state, _datasets(bench))
    counter = next(p for p in fresh.plugins if isinstance(p, Counter))
    expected = {int(c) for c in bench.train_stream[1].dataset.targets}
    assert counter.seen == 1 and counter.history == {1: expected} and len(expected) > 1


def test_rng_state_roundtrip():
    import random

    import numpy as np

    state = _roundtrip(rng_state())
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    load_rng_state(state)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == a
