"""SourceRehearsalPlugin: fusion and replay, concatenated or batch-mixed; random, balanced, stratified."""

import numpy as np
import pytest
import torch
from _strategy_helpers import Spy, build, tiny_benchmark

from fer_avalanche.errors import CheckpointError, ConfigError
from fer_avalanche.loaders import DeviceBatchLoader, MixedBatchLoader
from fer_avalanche.strategies import make_strategy
from fer_avalanche.strategies.plugins import SourceRehearsalPlugin
from fer_avalanche.strategies.plugins.rehearsal import _shares, stratified_counts
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
    """Training t1 then t2: t2's epochs run over source + t1 + t2 (t1 joined the rehearsed data)."""
    strategy = build("fusion", bench)
    sizes = []
    strategy.plugins.append(Spy("before_training_epoch", lambda s: sizes.append(len(s.adapted_dataset))))
    with quiet_third_party():
        strategy.train(bench.train_stream[1], eval_streams=[])
        strategy.train(bench.train_stream[2], eval_streams=[])
    n = [len(bench.train_stream[i].dataset) for i in (0, 1, 2)]
    assert sizes == [n[0] + n[1], n[0] + n[1] + n[2]]
    assert len(_rehearsal(strategy)) == sum(n)


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


# --------------------------------------------------------------------------- stratified buffers
def _imbalanced_source(counts=(60, 4, 20, 30, 12, 9, 5)):
    """A source training set with very unequal classes (like FER2013's disgust at 1.5%)."""
    from _strategy_helpers import SIZE

    from fer_avalanche.benchmarks import as_avalanche_dataset
    from fer_avalanche.data.ferdata import FERData

    labels = torch.cat([torch.full((n,), c) for c, n in enumerate(counts)])
    images = torch.randint(0, 255, (len(labels), 1, SIZE, SIZE), generator=torch.Generator().manual_seed(0))
    data = FERData(
        name="imb",
        images=images.to(torch.uint8),
        labels=labels,
        split=torch.zeros(len(labels), dtype=torch.long),
    )
    return as_avalanche_dataset(data, "train"), np.asarray(counts)


@pytest.mark.parametrize("size", [7, 25, 50, 101])
def test_stratified_buffer_matches_the_source_class_shares(size):
    source, counts = _imbalanced_source()
    buffer = SourceRehearsalPlugin(source, size, selection="stratified", seed=2).buffer
    got = np.bincount(_labels(buffer), minlength=7)
    assert got.sum() == size
    assert np.all(np.abs(got - size * counts / counts.sum()) < 1)  # largest remainder: within one sample
    assert np.array_equal(got, stratified_counts(counts, size))


def test_class_balanced_buffer_does_not_follow_the_source_shares():
    source, counts = _imbalanced_source()
    got = np.bincount(
        _labels(SourceRehearsalPlugin(source, 28, selection="class_balanced").buffer), minlength=7
    )
    assert got.tolist() == [4] * 7  # disgust (4 of 140 samples) gets a seventh of the buffer


def test_stratified_counts_by_largest_remainder():
    assert stratified_counts([50, 30, 20], 7).tolist() == [4, 2, 1]  # quotas 3.5, 2.1, 1.4
    assert stratified_counts([1, 1, 1], 2).tolist() == [1, 1, 0]  # ties: the lower index
    assert stratified_counts([5, 3], 100).tolist() == [5, 3]  # never more than a class has


def test_stratified_replay_keeps_its_source_samples_when_slots_shrink(bench):
    plugin = SourceRehearsalPlugin(bench.train_stream[0].dataset, 30, selection="stratified")
    kept = set(plugin.indices[0].tolist())
    plugin.datasets.append(bench.train_stream[1].dataset)
    plugin._rebalance()
    assert [len(i) for i in plugin.indices] == [15, 15] and set(plugin.indices[0].tolist()) <= kept


# ------------------------------------------------------------------------------- batch mixing
def test_batch_mixing_trains_on_mixed_batches_of_the_target_and_the_buffer(bench):
    strategy = build("replay", bench, mem_size=30, mix="batch", target_fraction=0.25)
    seen = []
    strategy.plugins.append(
        Spy(
            "before_training_epoch",
            lambda s: seen.append((len(s.adapted_dataset), type(s.dataloader), s.dataloader.n_source)),
        )
    )
    with quiet_third_party():
        strategy.train(bench.train_stream[1], eval_streams=[])
        strategy.train(bench.train_stream[2], eval_streams=[])
    n1, n2 = (len(bench.train_stream[i].dataset) for i in (1, 2))
    # the adapted dataset is the target alone; the source side is the buffer: source, then source + t1
    assert seen == [(n1, MixedBatchLoader, 30), (n2, MixedBatchLoader, 30)]
    plugin = _rehearsal(strategy)
    assert [len(i) for i in plugin.indices] == [10, 10, 10]  # grown with both targets afterwards


def test_batch_mixing_with_fusion_rehearses_the_whole_source_and_earlier_targets(bench):
    strategy = build("fusion", bench, mix="batch", target_fraction=0.5)
    sources = []
    strategy.plugins.append(Spy("before_training_epoch", lambda s: sources.append(s.dataloader.n_source)))
    with quiet_third_party():
        strategy.train(bench.train_stream[1], eval_streams=[])
        strategy.train(bench.train_stream[2], eval_streams=[])
    n0, n1 = (len(bench.train_stream[i].dataset) for i in (0, 1))
    assert sources == [n0, n0 + n1]


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"mix": "batch"}, "needs target_fraction"),
        ({"mix": "batch", "target_fraction": 1.5}, "needs target_fraction"),
        ({"target_fraction": 0.5}, "only with mix='batch'"),
        ({"mix": "interleave"}, "mix must be one of"),
    ],
)
def test_bad_mixing_settings_are_rejected(bench, options, match):
    with pytest.raises(ConfigError, match=match):
        build("replay", bench, **options)


def test_registry_keeps_concatenation_as_the_default(bench):
    assert _rehearsal(build("fusion", bench)).mix == "concat"
    assert _rehearsal(build("replay", bench)).mix == "concat"
