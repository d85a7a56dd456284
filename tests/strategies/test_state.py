"""Checkpointing a strategy between experiences and continuing from the checkpoint is bit-identical."""

from __future__ import annotations

import io
from typing import Any

import pytest
import torch
from _strategy_helpers import baseline_model, build, tiny_benchmark, validation_sets

from fer_avalanche.benchmarks import cross_dataset_benchmark
from fer_avalanche.errors import CheckpointError
from fer_avalanche.strategies import get_strategy_spec, list_strategies, make_strategy, warm_start
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


@pytest.fixture(scope="module")
def val_bench() -> Any:
    from _strategy_helpers import SIZE
    from conftest import tiny_fer

    datasets = [tiny_fer("src", n=105, size=SIZE)]
    datasets += [tiny_fer(f"tgt{i}", n=60, seed=i + 1, shift=0.5 * (i + 1), size=SIZE) for i in range(2)]
    return cross_dataset_benchmark(datasets, with_validation=True)


def _datasets(bench: Any) -> list[Any]:
    return [exp.dataset for exp in bench.train_stream]


def _fresh(name: str, bench: Any, **kwargs: Any) -> Any:
    """Built the way the runner builds it: ``source=`` the source experience (warm-started here)."""
    seed_everything(7)
    settings = {
        "epochs": 1,
        "batch_size": 16,
        "eval_batch_size": 64,
        "seed": 3,
        **OPTIONS.get(name, {}),
        **validation_sets(name, bench),
        **kwargs,
    }
    with quiet_third_party():
        return make_strategy(name, baseline_model(), source=bench.train_stream[0], **settings)


def _fresh_legacy(name: str, bench: Any) -> Any:
    """The older call: a source dataset, then ``warm_start`` (still supported)."""
    seed_everything(7)
    strategy = build(name, bench, baseline_model(), seed=3, **OPTIONS.get(name, {}))
    with quiet_third_party():
        warm_start(strategy, bench.train_stream[0])
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


def _reports(strategy: Any) -> tuple[Any, ...]:
    return strategy.fer_budgets, strategy.fer_curve, strategy.fer_selected_epoch


def _continues_identically(bench: Any, make: Any) -> tuple[Any, Any]:
    datasets = _datasets(bench)
    original = make()
    _train(original, bench.train_stream[1])
    state = _roundtrip(strategy_state(original, datasets))
    saved_reports = _reports(original)
    _train(original, bench.train_stream[2])
    torch.manual_seed(12345)
    resumed = make()
    load_strategy_state(resumed, state, datasets)
    assert _reports(resumed) == saved_reports  # budgets, curve and selection of the saved step
    _train(resumed, bench.train_stream[2])
    expected, got = _weights(original), _weights(resumed)
    changed = [k for k in expected if not torch.equal(expected[k], got[k])]
    assert not changed, f"weights differ after resuming: {changed[:4]}"
    return original, resumed


#: Rehearsal with batch mixing (the mixed loader draws from the strategy's data generator), stratified
#: buffers, a step budget and validation curves: all carried by the checkpoint.
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "fusion-batch": ("fusion", {"mix": "batch", "target_fraction": 0.5, "max_steps": 5}),
    "replay-batch-stratified": (
        "replay",
        {"mix": "batch", "target_fraction": 0.25, "selection": "stratified", "target_passes": 1.5},
    ),
    "lwf-validated": ("lwf", {"eval_every": 1}),
    "ft-fc-best-val": ("ft-fc", {"epochs": 2, "select": "best_val", "patience": 1}),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_budget_validation_and_mixed_batches_resume_bit_identically(variant, val_bench):
    name, options = VARIANTS[variant]
    if "eval_every" in options or "select" in options:
        options = {**options, "val_sets": {e.dataset_name: e.dataset for e in val_bench.valid_stream}}
    original, resumed = _continues_identically(val_bench, lambda: _fresh(name, val_bench, **options))
    assert resumed.fer_budgets == original.fer_budgets and len(resumed.fer_budgets) == 2
    assert resumed.fer_curve == original.fer_curve
    assert resumed.fer_selected_epoch == original.fer_selected_epoch


def test_the_older_warm_start_call_resumes_bit_identically(bench):
    _continues_identically(bench, lambda: _fresh_legacy("ewc", bench))


def test_a_plugin_with_state_dict_roundtrips_without_registration(bench):
    class Tally(SupervisedPlugin):
        def __init__(self) -> None:
            super().__init__()
            self.steps = 0
            self.order = torch.Generator().manual_seed(0)
            self.classes: dict[int, list[int]] = {}

        def after_training_iteration(self, strategy: Any, **kwargs: Any) -> None:
            self.steps += 1
            torch.rand(1, generator=self.order)

        def after_training_exp(self, strategy: Any, **kwargs: Any) -> None:
            self.classes[len(self.classes)] = sorted({int(c) for c in strategy.experience.dataset.targets})

        def state_dict(self) -> dict[str, Any]:
            return {"steps": self.steps, "order": self.order, "classes": self.classes}

        def load_state_dict(self, state: dict[str, Any]) -> None:
            self.steps, self.order, self.classes = state["steps"], state["order"], state["classes"]

    strategy = build("retrain", bench, plugins=[Tally()])
    _train(strategy, bench.train_stream[1])
    state = _roundtrip(strategy_state(strategy, _datasets(bench)))
    fresh = build("retrain", bench, plugins=[Tally()])
    load_strategy_state(fresh, state, _datasets(bench))
    tally = next(p for p in fresh.plugins if isinstance(p, Tally))
    original = next(p for p in strategy.plugins if isinstance(p, Tally))
    assert tally.steps == original.steps > 0 and tally.classes == original.classes == {0: list(range(7))}
    assert torch.equal(tally.order.get_state(), original.order.get_state())


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


def test_plugin_without_declared_state_is_named(bench):
    class Opaque(SupervisedPlugin):
        pass

    strategy = build("retrain", bench, plugins=[Opaque()])
    with pytest.raises(CheckpointError, match="Opaque declares no checkpoint state: give it state_dict"):
        strategy_state(strategy, _datasets(bench))


def test_an_adapter_for_a_foreign_plugin_roundtrips(bench):
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
