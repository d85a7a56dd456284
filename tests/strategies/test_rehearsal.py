"""SourceRehearsalPlugin: fusion trains on source + target, replay on a bounded class-balanced buffer."""

import numpy as np
import pytest
import torch
from _strategy_helpers import Spy, build, tiny_benchmark

from fer_avalanche.errors import CheckpointError, ConfigError
from fer_avalanche.loaders import DeviceBatchLoader
from fer_avalanche.strategies import make_strategy
from fer_avalanche.strategies.plugins import SourceRehearsalPlugin
from fer_avalanche.strategies.plugins.rehearsal import _shares
from fer_avalanche.utils import quiet_third_party


@pytest.fixture
def bench(make_fer):
    return tiny_benchmark(make_fer, n_source=140, n_targets=(35, 35))


def _labels(dataset):
    return np.asarray(list(dataset.targets))


def _rehearsal(strategy):
    return next(p for p in strategy.plugins if isinstance(p, SourceRehearsalPlugin))


def test_fusion_trains_each_epoch_on_source_plus_target(bench):
    strategy = build("fusion", bench)
    sizes = []
    strategy.plugins.append(
        Spy("before_training_epoch", lambda s: sizes.append((len(s.adapted_dataset), type(s.dataloader))))
    )
    with quiet_third_party():
        strategy.train(bench.train_stream[1], eval_streams=[])
    n_src, n_tgt = len(bench.train_stream[0].dataset), len(bench.train_stream[1].dataset)
    assert sizes == [(n_src + n_tgt, DeviceBatchLoader)]


def test_fusion_grows_with_every_target_in_a_sequence(bench):
    strategy = build("fusion", bench)
    with quiet_third_party():
        strategy.train(bench.train_stream[1], eval_streams=[])
    assert len(_rehearsal(strategy)) == sum(len(bench.train_stream[i].dataset) for i in (0, 1))


def test_replay_buffer_has_mem_size_class_balanced_source_samples(bench):
    strategy = build("replay", bench, mem_size=30)
    buffer = _rehearsal(strategy).buffer
    assert len(buffer) == 30
    counts = np.bincount(_labels(buffer), minlength=7)
    assert counts.max() - counts.min() <= 1


def test_random_selection_is_deterministic_from_the_seed(bench):
    source = bench.train_stream[0].dataset

    def indices(seed):
        return SourceRehearsalPlugin(source, 30, selection="random", seed=seed).state_dict()["indices"][0]

    assert torch.equal(indices(1), indices(1))
    assert not torch.equal(indices(1), indices(2))
    assert len(indices(1)) == 30 and len(set(indices(1).tolist())) == 30


def test_replay_rebalances_its_slots_over_source_and_seen_targets(bench):
    plugin = SourceRehearsalPlugin(bench.train_stream[0].dataset, 30, selection="class_balanced")
    kept_source = set(plugin.indices[0].tolist())
    strategy = build("naive", bench, plugins=[plugin])
    with quiet_third_party():
        strategy.train(bench.train_stream[1], eval_streams=[])
    assert [len(i) for i in plugin.indices] == [15, 15] and len(plugin) == 30
    assert set(plugin.indices[0].tolist()) <= kept_source  # shrinking keeps a prefix of the same order


def test_buffer_state_round_trips_and_checks_the_datasets(bench):
    source = bench.train_stream[0].dataset
    plugin = SourceRehearsalPlugin(source, 20, seed=3)
    plugin.datasets.append(bench.train_stream[1].dataset)
    plugin._rebalance()
    state = plugin.state_dict()
    assert all(isinstance(t, torch.Tensor) for t in state["indices"])
    restored = SourceRehearsalPlugin(source, 5, seed=0)
    restored.load_state_dict(state, [bench.train_stream[1].dataset])
    assert restored.max_size == 20 and len(restored) == 20
    assert all(np.array_equal(a, b) for a, b in zip(plugin.indices, restored.indices, strict=True))
    with pytest.raises(CheckpointError, match="sizes"):
        SourceRehearsalPlugin(source, 5).load_state_dict(state, [])


def test_shares_are_even_and_capped_by_dataset_sizes():
    assert _shares(30, [100, 100]) == [15, 15]
    assert _shares(30, [100, 4]) == [26, 4]
    assert _shares(500, [10, 20]) == [10, 20]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"max_size": 0}, "max_size"), ({"selection": "herding"}, "selection"), ({"seed": 1.5}, "seed")],
)
def test_bad_settings_are_rejected(bench, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        SourceRehearsalPlugin(bench.train_stream[0].dataset, **kwargs)


@pytest.mark.parametrize("name", ["fusion", "replay"])
def test_rehearsal_strategies_need_the_source(name):
    with pytest.raises(ConfigError, match="source"):
        make_strategy(name, torch.nn.Linear(2, 2))
