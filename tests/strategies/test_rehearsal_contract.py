"""SourceRehearsalPlugin without training: which samples the buffer holds, its messages, its hooks.

The hooks are called on a stand-in strategy (what the plugin reads of one), on tiny datasets built
in memory, so each case is milliseconds; ``test_rehearsal.py`` and ``test_batch_share.py`` train.
"""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from fer_avalanche.benchmarks import as_avalanche_dataset
from fer_avalanche.data.ferdata import FERData
from fer_avalanche.errors import CheckpointError, ConfigError
from fer_avalanche.loaders import MixedBatchLoader
from fer_avalanche.strategies.plugins import SourceRehearsalPlugin
from fer_avalanche.strategies.plugins.rehearsal import _sample_order, _select, _shares, stratified_counts


def _dataset(counts, name="src", seed=0):
    """An Avalanche dataset with ``counts[c]`` samples of class ``c`` (the samples' pixels number them)."""
    labels = torch.cat([torch.full((n,), c) for c, n in enumerate(counts)])
    images = (torch.arange(len(labels)) % 251).to(torch.uint8).view(-1, 1, 1, 1).expand(-1, 1, 4, 4)
    data = FERData(
        name=name, images=images.contiguous(), labels=labels, split=torch.zeros(len(labels)).long()
    )
    return as_avalanche_dataset(data, "train")


def _labels(dataset):
    return np.asarray(list(dataset.targets))


SOURCE = _dataset([6, 2, 4])  # 12 samples, labels 0 x6, 1 x2, 2 x4
TARGET = _dataset([3, 3], name="tgt")


# ------------------------------------------------------------------------------ sample choice
def test_stratified_counts_of_nothing_are_zeros():
    assert stratified_counts([3, 2], 0).tolist() == [0, 0]
    assert stratified_counts([3, 2], -4).tolist() == [0, 0]
    assert stratified_counts([0, 0], 5).tolist() == [0, 0]
    assert stratified_counts([3, 2], 5).tolist() == [3, 2]  # every slot filled, exactly
    assert stratified_counts([3, 2], 1).tolist() == [1, 0]  # one slot
    assert stratified_counts([0, 1], 1).tolist() == [0, 1]  # one sample in all
    assert stratified_counts([3.0, 2.0], 4).dtype == np.int64


def test_stratified_counts_give_remainders_to_the_largest_remainder_then_the_larger_class():
    assert stratified_counts([1, 3], 2).tolist() == [0, 2]  # quotas 0.5, 1.5: remainders tie, larger class
    assert stratified_counts([2, 5, 3], 4).tolist() == [1, 2, 1]  # quotas 0.8, 2.0, 1.2
    assert stratified_counts([7, 3], 3).tolist() == [2, 1]  # quotas 2.1, 0.9


def test_class_balanced_order_deals_one_sample_of_each_class_in_turn():
    targets = np.array([0, 0, 0, 0, 1, 2, 2])
    order = _sample_order(targets, "class_balanced", seed=3)
    assert sorted(order.tolist()) == list(range(7))
    assert targets[order].tolist() == [0, 1, 2, 0, 2, 0, 0]


def test_stratified_order_is_class_by_class_and_random_a_permutation():
    targets = np.array([1, 0, 1, 0, 2])
    stratified = _sample_order(targets, "stratified", seed=1)
    assert targets[stratified].tolist() == [0, 0, 1, 1, 2]
    random = _sample_order(targets, "random", seed=1)
    assert sorted(random.tolist()) == list(range(5)) and np.array_equal(
        random, np.random.default_rng(1).permutation(5)
    )


def test_a_stratified_selection_takes_each_class_from_its_own_block():
    targets = np.array([0, 0, 0, 0, 1, 1])  # 4 and 2: 3 slots -> 2 and 1
    order = _sample_order(targets, "stratified", seed=0)
    picked = _select(order, targets, "stratified", 3)
    assert np.bincount(targets[picked], minlength=2).tolist() == [2, 1]
    assert picked.tolist() == sorted(picked.tolist())
    assert _select(order, targets, "stratified", 6).tolist() == list(range(6))  # all of every class


def test_a_random_selection_is_the_sorted_prefix_of_the_order():
    order = np.array([4, 0, 3, 1, 2])
    assert _select(order, np.zeros(5), "random", 3).tolist() == [0, 3, 4]


def test_shares_give_the_odd_slot_to_the_first_dataset_and_cap_at_sizes():
    assert _shares(5, [10, 10]) == [3, 2]
    assert _shares(7, [10, 2, 10]) == [3, 2, 2]
    assert _shares(3, [0, 10]) == [0, 3]
    assert _shares(0, [4, 4]) == [0, 0]
    assert _shares(3, [1, 10]) == [1, 2]  # a dataset of one sample gets its slot
    assert _shares(4, [1, 10]) == [1, 3]  # the last slot left over after the first round
    assert _shares(20, [1, 8, 30]) == [1, 8, 11]  # the second round fills a dataset up to its size


def test_the_buffer_depends_on_the_seed_per_dataset():
    a = SourceRehearsalPlugin(SOURCE, 6, selection="random", seed=0)
    b = SourceRehearsalPlugin(SOURCE, 6, selection="random", seed=0)
    assert np.array_equal(a.indices[0], b.indices[0])
    expected = np.sort(np.random.default_rng(0 * 1009 + 0).permutation(12)[:6])
    assert a.indices[0].tolist() == expected.tolist()
    c = SourceRehearsalPlugin(SOURCE, 6, selection="random", seed=2)
    assert c.indices[0].tolist() == np.sort(np.random.default_rng(2 * 1009).permutation(12)[:6]).tolist()


def test_the_buffer_holds_the_chosen_source_samples():
    plugin = SourceRehearsalPlugin(SOURCE, 5, selection="stratified", seed=1)
    buffer = plugin.buffer
    assert len(buffer) == len(plugin) == 5
    assert np.bincount(_labels(buffer), minlength=3).tolist() == stratified_counts([6, 2, 4], 5).tolist()
    assert _labels(buffer).tolist() == _labels(SOURCE)[plugin.indices[0]].tolist()


def test_fusion_rehearses_every_sample_of_every_dataset():
    plugin = SourceRehearsalPlugin(SOURCE)
    plugin.after_training_exp(SimpleNamespace(experience=SimpleNamespace(dataset=TARGET)))
    assert len(plugin) == len(plugin.buffer) == 18
    assert [i.tolist() for i in plugin.indices] == [list(range(12)), list(range(6))]
    assert _labels(plugin.buffer).tolist() == _labels(SOURCE).tolist() + _labels(TARGET).tolist()


def test_replay_shares_its_slots_with_a_seen_experience():
    plugin = SourceRehearsalPlugin(SOURCE, 8, selection="class_balanced")
    plugin.after_training_exp(SimpleNamespace(experience=SimpleNamespace(dataset=TARGET)))
    assert [len(i) for i in plugin.indices] == [4, 4] and len(plugin.buffer) == 8
    assert np.bincount(_labels(TARGET)[plugin.indices[1]], minlength=2).tolist() == [2, 2]


@pytest.mark.parametrize("selection", ["random", "class_balanced", "stratified"])
def test_an_empty_experience_gets_no_slot(selection):
    plugin = SourceRehearsalPlugin(SOURCE, 8, selection=selection)
    plugin.after_training_exp(SimpleNamespace(experience=SimpleNamespace(dataset=TARGET.subset([]))))
    assert [len(i) for i in plugin.indices] == [8, 0] and plugin.indices[1].dtype == np.int64
    assert len(plugin.buffer) == 8 and len(plugin) == 8
    everything = SourceRehearsalPlugin(SOURCE, 12, selection=selection)
    assert everything.indices[0].tolist() == list(range(12))


def test_no_experience_adds_nothing():
    plugin = SourceRehearsalPlugin(SOURCE, 8)
    plugin.after_training_exp(SimpleNamespace(experience=None))
    assert len(plugin.datasets) == 1 and len(plugin) == 8


# ------------------------------------------------------------------------------ settings
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_size": True}, r"^SourceRehearsalPlugin max_size must be an int >= 1 or None, got True$"),
        ({"max_size": 2.0}, r"^SourceRehearsalPlugin max_size must be an int >= 1 or None, got 2.0$"),
        ({"max_size": 0}, r"max_size must be an int >= 1 or None, got 0$"),
        ({"selection": "herding"}, r"^SourceRehearsalPlugin selection must be one of \['random', 'class_b"),
        ({"seed": True}, r"^SourceRehearsalPlugin seed must be an int, got True$"),
        ({"mix": "batch", "target_fraction": True}, r"^rehearsal mix='batch' needs target_fraction, the tar"),
        ({"mix": "batch", "target_fraction": 0}, r"in \(0, 1\]; got 0$"),
        ({"mix": "batch", "target_fraction": "0.5"}, r"in \(0, 1\]; got '0.5'$"),
        ({"target_fraction": 0.5}, r"^target_fraction=0.5 is used only with mix='batch' \(got mix='conc"),
        ({"mix": "pairs"}, r"^rehearsal mix must be one of \['concat', 'batch'\], got 'pairs'$"),
    ],
)  # fmt: skip
def test_a_bad_setting_is_refused_with_a_message_naming_it(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        SourceRehearsalPlugin(SOURCE, **kwargs)


@pytest.mark.parametrize(
    ("source", "kind"),
    [(None, "NoneType"), ([1, 2, 3], "list"), (SimpleNamespace(targets=[0]), "SimpleNamespace"),
     (SimpleNamespace(concat=list), "SimpleNamespace")],
)  # fmt: skip
def test_the_source_must_be_an_avalanche_dataset(source, kind):
    message = (
        r"^SourceRehearsalPlugin needs the source's training data as an Avalanche dataset "
        rf"\(e\.g\. benchmark\.train_stream\[0\]\.dataset\), got {kind}$"
    )
    with pytest.raises(ConfigError, match=message):
        SourceRehearsalPlugin(source)


def test_the_smallest_buffer_and_the_default_seed_are_accepted():
    plugin = SourceRehearsalPlugin(SOURCE, 1)
    assert len(plugin) == 1 and plugin.seed == 0


def test_an_empty_source_is_refused():
    empty = SOURCE.subset([])
    with pytest.raises(ConfigError, match=r"^SourceRehearsalPlugin: the source dataset is empty$"):
        SourceRehearsalPlugin(empty)


@pytest.mark.parametrize("fraction", [1, 1.0, 0.01])
def test_the_edge_fractions_are_accepted(fraction):
    assert SourceRehearsalPlugin(SOURCE, mix="batch", target_fraction=fraction).target_fraction == fraction


def test_settings_are_kept_and_shown():
    plugin = SourceRehearsalPlugin(SOURCE, 4, selection="stratified", seed=3, grow_with_targets=0)
    assert plugin.grow_with_targets is False and plugin.target_fraction is None
    assert repr(plugin) == (
        "SourceRehearsalPlugin(max_size=4, selection='stratified', seed=3, grow_with_targets=False, "
        "mix=concat, buffered=4)"
    )
    fusion = SourceRehearsalPlugin(SOURCE, mix="batch", target_fraction=1)
    assert type(fusion.target_fraction) is float
    assert repr(fusion) == (
        "SourceRehearsalPlugin(max_size=all, selection='random', seed=0, grow_with_targets=True, "
        "mix=batch, target_fraction=1.0, buffered=12)"
    )


# ------------------------------------------------------------------------------ hooks
def _strategy(**kwargs):
    generator = torch.Generator().manual_seed(0)
    return SimpleNamespace(adapted_dataset=TARGET, train_mb_size=4, device=torch.device("cpu"),
                           data_generator=generator, **kwargs)  # fmt: skip


def test_concat_appends_the_buffer_to_the_adapted_dataset():
    plugin = SourceRehearsalPlugin(SOURCE, 5)
    strategy = _strategy()
    plugin.after_train_dataset_adaptation(strategy)
    assert len(strategy.adapted_dataset) == 6 + 5
    assert (
        _labels(strategy.adapted_dataset).tolist()
        == _labels(TARGET).tolist() + _labels(plugin.buffer).tolist()
    )
    plugin.before_training_exp(strategy)
    assert not hasattr(strategy, "dataloader")


def test_batch_mixing_sets_a_mixed_loader_and_leaves_the_dataset():
    plugin = SourceRehearsalPlugin(SOURCE, 5, mix="batch", target_fraction=0.25)
    strategy = _strategy()
    plugin.after_train_dataset_adaptation(strategy)
    assert strategy.adapted_dataset is TARGET
    plugin.before_training_exp(strategy)
    loader = strategy.dataloader
    assert isinstance(loader, MixedBatchLoader)
    assert (loader.n_target, loader.n_source, loader.batch_size, loader.target_fraction) == (6, 5, 4, 0.25)
    assert loader.generator is strategy.data_generator and loader.device == torch.device("cpu")


def test_batch_mixing_refuses_datasets_it_cannot_index_on_the_device():
    plugin = SourceRehearsalPlugin(SOURCE, 5, mix="batch", target_fraction=0.5)
    strategy = _strategy()
    strategy.adapted_dataset = TARGET.replace_current_transform_group(lambda x: x)
    message = (
        r"^rehearsal mix='batch' forms batches on the device by index and needs datasets built by "
        r"fer_avalanche\.benchmarks \(no transforms\); use mix='concat' for other datasets$"
    )
    with pytest.raises(ConfigError, match=message):
        plugin.before_training_exp(strategy)


def test_a_strategy_without_a_data_generator_passes_none_to_the_loader():
    plugin = SourceRehearsalPlugin(SOURCE, 5, mix="batch", target_fraction=0.5)
    strategy = _strategy()
    del strategy.data_generator
    plugin.before_training_exp(strategy)
    assert strategy.dataloader.generator is None


# ------------------------------------------------------------------------------ checkpoint
def test_the_state_of_fusion_says_all_and_lists_the_seen_experiences():
    plugin = SourceRehearsalPlugin(SOURCE, seed=5)
    plugin.after_training_exp(SimpleNamespace(experience=SimpleNamespace(dataset=TARGET)))
    state = plugin.state_dict()
    assert state["max_size"] == -1 and state["seed"] == 5
    assert state["lengths"].tolist() == [12, 6] and state["experience_datasets"] == [TARGET]
    restored = SourceRehearsalPlugin(SOURCE, 3)
    restored.load_state_dict(state)  # the experience datasets stored in the state
    assert restored.max_size is None and restored.seed == 5 and len(restored) == 18


def test_a_restored_buffer_is_the_saved_one_and_grows_like_it():
    plugin = SourceRehearsalPlugin(SOURCE, 6, selection="random", seed=4)
    state = plugin.state_dict()
    restored = SourceRehearsalPlugin(SOURCE, 2, selection="random", seed=0)
    restored.load_state_dict(state)
    assert (
        restored.indices[0].dtype == np.int64 and restored.indices[0].tolist() == plugin.indices[0].tolist()
    )
    for p in (plugin, restored):
        p.after_training_exp(SimpleNamespace(experience=SimpleNamespace(dataset=TARGET)))
    assert [i.tolist() for i in restored.indices] == [i.tolist() for i in plugin.indices]


def test_a_state_over_other_datasets_is_refused_naming_the_sizes():
    state = SourceRehearsalPlugin(SOURCE, 6).state_dict()
    with pytest.raises(
        CheckpointError, match=r"sizes \[12\], but got \[12, 6\] \(the source plus 1 experience"
    ):
        SourceRehearsalPlugin(SOURCE, 6).load_state_dict(state, [TARGET])
    with pytest.raises(
        CheckpointError, match=r"sizes \[12\], but got \[6\] \(the source plus 0 experience datasets\)$"
    ):
        SourceRehearsalPlugin(TARGET, 6).load_state_dict(state)


def test_a_state_saved_without_experience_datasets_restores_over_the_source_alone():
    state = SourceRehearsalPlugin(SOURCE, 6, seed=2).state_dict()
    del state["experience_datasets"]
    restored = SourceRehearsalPlugin(SOURCE, 3)
    restored.load_state_dict(state)
    assert restored.datasets == [SOURCE] and len(restored) == 6 and restored.seed == 2
