"""The device loaders' rules, sample by sample: which images and labels a batch holds (several leaves,
nested concatenations, subsets), how many batches an epoch has, what the mixed batches draw, and the
errors for bad settings. Tiny numbered datasets: every image spells its own id."""

from __future__ import annotations

import pytest
import torch

from fer_avalanche.benchmarks import as_avalanche_dataset
from fer_avalanche.data.ferdata import FERData
from fer_avalanche.loaders import DeviceBatchLoader, MixedBatchLoader, device_batches, gather_tensors


def _numbered(name: str, n: int, first_id: int = 0, task: int = 0):
    """A train-only dataset whose image pixels (0, 0) and (0, 1) spell each sample's id; label id % 7."""
    ids = torch.arange(first_id, first_id + n)
    images = torch.zeros(n, 1, 4, 4, dtype=torch.uint8)
    images[:, 0, 0, 0] = (ids % 256).to(torch.uint8)
    images[:, 0, 0, 1] = (ids // 256).to(torch.uint8)
    data = FERData(name=name, images=images, labels=ids % 7, split=torch.zeros(n, dtype=torch.long))
    ds = as_avalanche_dataset(data, "train")
    return ds if task == 0 else ds.update_data_attribute("targets_task_labels", [task] * n)


def _ids(x: torch.Tensor) -> list[int]:
    pixels = torch.round((x[:, 0, 0, :2] * 0.5 + 0.5) * 255).long()
    return (pixels[:, 0] + 256 * pixels[:, 1]).tolist()


def _all(loader) -> tuple[list[int], list[int], list[int]]:
    ids, labels, tasks = [], [], []
    for x, y, t in loader:
        ids += _ids(x)
        labels += y.tolist()
        tasks += t.tolist()
    return ids, labels, tasks


@pytest.fixture
def parts():
    return _numbered("a", 30, first_id=0), _numbered("b", 20, first_id=500), _numbered("c", 10, first_id=900)


def test_several_leaves_with_subsets_give_every_sample_its_own_image_label_and_order(parts) -> None:
    a, b, c = parts
    mixed = b.subset([19, 0, 7]).concat(a.subset([29, 3])).concat(c).concat(b.subset([7]))
    ids, labels, tasks = _all(DeviceBatchLoader(mixed, batch_size=4))
    expected = [519, 500, 507, 29, 3, *range(900, 910), 507]
    assert ids == expected and labels == [i % 7 for i in expected] and tasks == [0] * len(expected)
    view = gather_tensors(mixed)
    assert len(view) == len(expected) and len(view.leaves) == 3
    assert view.labels().tolist() == [i % 7 for i in expected]


def test_nested_concatenations_resolve_in_order(parts) -> None:
    a, b, c = parts
    inner = a.subset([1, 2]).concat(b.subset([4]))
    nested = c.subset([9]).concat(inner.subset([2, 0])).concat(inner)
    assert _all(DeviceBatchLoader(nested, batch_size=3))[0] == [909, 504, 1, 1, 2, 504]


def test_task_labels_follow_their_samples(parts) -> None:
    a, _, _ = parts
    other = _numbered("t", 5, first_id=700, task=3)
    ids, _, tasks = _all(DeviceBatchLoader(a.subset([0, 1]).concat(other), batch_size=16))
    assert ids == [0, 1, *range(700, 705)] and tasks == [0, 0, 3, 3, 3, 3, 3]
    assert gather_tensors(other).task_labels.tolist() == [3] * 5


@pytest.mark.parametrize(
    ("n", "size", "drop_last", "batches", "last"),
    [
        (10, 4, False, 3, 2),
        (10, 4, True, 2, 4),
        (8, 4, False, 2, 4),
        (8, 4, True, 2, 4),
        (3, 4, True, 0, None),
        (9, 4, False, 3, 1),
    ],
)
def test_the_number_and_sizes_of_batches(n, size, drop_last, batches, last) -> None:
    loader = DeviceBatchLoader(_numbered("n", n), batch_size=size, drop_last=drop_last)
    sizes = [len(x) for x, _y, _t in loader]
    assert len(loader) == batches == len(sizes)
    assert (sizes[-1] if sizes else None) == last
    assert sum(sizes) == (n if not drop_last else batches * size)


def test_an_unshuffled_epoch_is_in_order_and_a_shuffled_one_a_permutation(parts) -> None:
    a, _, _ = parts
    assert _all(DeviceBatchLoader(a, 7))[0] == list(range(30))
    shuffled = _all(DeviceBatchLoader(a, 7, shuffle=True, generator=torch.Generator().manual_seed(0)))[0]
    assert sorted(shuffled) == list(range(30)) and shuffled != list(range(30))


def test_composition_and_own_mask_of_every_batch(parts) -> None:
    a, b, _ = parts
    union = a.subset(list(range(5))).concat(b.subset(list(range(6))))
    own = torch.tensor([True] * 5 + [False] * 6)
    loader = DeviceBatchLoader(union, 4, own=own)  # in order: 4 own | 1 own + 3 | 3
    seen = []
    for x, _y, _t in loader:
        seen.append((loader.last_composition, loader.last_own.tolist(), [i < 500 for i in _ids(x)]))
    assert [s[0] for s in seen] == [(4, 0), (1, 3), (0, 3)]
    assert all(mask == truth for _c, mask, truth in seen)


def test_an_own_mask_of_the_wrong_length_is_refused(parts) -> None:
    with pytest.raises(ValueError, match=r"own mask has shape \(29,\), expected \(30,\)"):
        DeviceBatchLoader(parts[0], 4, own=torch.ones(29, dtype=torch.bool))


def test_a_dataset_that_is_not_ours_is_refused_by_name(parts) -> None:
    flipped = parts[0].replace_current_transform_group(lambda x: x.flip(-1))
    with pytest.raises(
        TypeError,
        match=r"DeviceBatchLoader needs a dataset built by fer_avalanche\.benchmarks "
        r"\(FERTensorDataset leaves, no transforms\), got \w+",
    ):
        DeviceBatchLoader(flipped, 4)
    with pytest.raises(TypeError, match=r"MixedBatchLoader \(source\) needs a dataset"):
        MixedBatchLoader(parts[0], flipped, 4, 0.5)
    with pytest.raises(TypeError, match=r"MixedBatchLoader \(target\) needs a dataset.*got list"):
        MixedBatchLoader([1, 2], parts[0], 4, 0.5)


def test_device_batches_fall_back_to_a_torch_loader_for_other_datasets(parts) -> None:
    a, _, _ = parts
    flipped = a.subset(list(range(10))).replace_current_transform_group(lambda x: x.flip(-1))
    fast = device_batches(a.subset(list(range(10))), 4, torch.device("cpu"))
    slow = device_batches(flipped, 4, torch.device("cpu"))
    assert isinstance(fast, DeviceBatchLoader) and not isinstance(slow, DeviceBatchLoader)
    assert len(slow) == len(fast) == 3
    fast_x = torch.cat([b[0] for b in fast])
    slow_x = torch.cat([b[0] for b in slow])
    assert torch.equal(slow_x, fast_x.flip(-1))  # the transform was applied: the slow path ran
    assert _all(fast)[0] == list(range(10))
    shuffled = [_all(device_batches(a, 8, torch.device("cpu"), shuffle=True, seed=s))[0] for s in (1, 1, 2)]
    assert shuffled[0] == shuffled[1] != shuffled[2] and sorted(shuffled[0]) == list(range(30))
    slow_shuffled = [
        torch.cat([b[1] for b in device_batches(flipped, 4, torch.device("cpu"), True, s)]) for s in (5, 5)
    ]
    assert torch.equal(*slow_shuffled)


# ------------------------------------------------------------------------------ mixed batches
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target_fraction": -0.5}, r"target_fraction must be in \(0, 1\], got -0\.5"),
        ({"target_fraction": 1.01}, r"target_fraction must be in \(0, 1\], got 1\.01"),
        ({"batch_size": 0}, r"MixedBatchLoader batch_size must be >= 2, got 0"),
    ],
)
def test_mixed_settings_out_of_bounds_are_refused(parts, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        MixedBatchLoader(parts[0], parts[1], **{"batch_size": 8, "target_fraction": 0.5, **kwargs})


def test_mixed_settings_at_the_bounds_are_accepted(parts) -> None:
    a, b, _ = parts
    whole = MixedBatchLoader(
        a, b, batch_size=2, target_fraction=1.0, generator=torch.Generator().manual_seed(0)
    )
    assert len(whole) == 15 and all(loader_c == (2, 0) for loader_c in _compositions(whole))
    assert whole.target_per_batch == 2.0


def _compositions(loader) -> list[tuple[int, int]]:
    out = []
    for _batch in loader:
        out.append(loader.last_composition)
    return out


def test_an_empty_target_or_source_is_refused(parts) -> None:
    a, b, _ = parts
    empty = a.subset([])
    with pytest.raises(ValueError, match=r"MixedBatchLoader: the target dataset is empty$"):
        MixedBatchLoader(empty, b, 8, 0.5)
    with pytest.raises(ValueError, match=r"the source dataset is empty but target_fraction < 1$"):
        MixedBatchLoader(a, empty, 8, 0.5)
    only_target = MixedBatchLoader(a, empty, 8, 1.0, generator=torch.Generator().manual_seed(0))
    ids = _all(only_target)[0]
    assert len(ids) == 32 and all(i < 30 for i in ids)  # ceil(30 / 8) = 4 batches of 8


def test_target_counts_follow_the_running_share(parts) -> None:
    a, b, _ = parts
    loader = MixedBatchLoader(a, b, batch_size=10, target_fraction=0.25)  # 2.5 per batch
    assert loader.target_counts(4).tolist() == [3, 2, 3, 2]  # round(2.5)=3, round(5)-3=2, round(7.5)-5=3
    assert MixedBatchLoader(a, b, 4, 0.5).target_counts(3).tolist() == [2, 2, 2]
    assert len(loader) == 12  # ceil(30 / 2.5)
    assert len(MixedBatchLoader(a.subset([0]), b, 32, 0.9)) == 1  # at least one batch
    assert len(MixedBatchLoader(a, b, 10, 0.3)) == 10  # 30 / 3 exactly: no extra batch for rounding


def test_mixed_batches_hold_targets_first_then_cycled_source_samples(parts) -> None:
    a, b, _ = parts  # 20 source samples
    loader = MixedBatchLoader(
        a.subset([0, 1, 2, 3]),
        b,
        batch_size=8,
        target_fraction=0.25,
        generator=torch.Generator().manual_seed(0),
    )
    assert len(loader) == 2
    epochs = []
    for _ in range(3):
        batches = []
        for x, y, _t in loader:
            ids = _ids(x)
            assert all(i < 4 for i in ids[:2]) and all(i >= 500 for i in ids[2:])  # 2 target + 6 source
            assert y.tolist() == [i % 7 for i in ids]
            assert loader.last_own.tolist() == [True] * 2 + [False] * 6
            batches += ids[2:]
        epochs += batches
    # 36 source draws: the first 20 are every source sample once, then a new permutation begins
    assert sorted(epochs[:20]) == list(range(500, 520))
    assert len(set(epochs[20:36])) == 16


def test_an_own_mask_given_as_a_list_of_zeros_and_ones_is_a_boolean_mask(parts) -> None:
    loader = DeviceBatchLoader(parts[1], 8)
    loader.track([1] * 5 + [0] * 15)
    for _batch in loader:
        assert loader.last_own.dtype == torch.bool
    assert loader.own.dtype == torch.bool and int(loader.own.sum()) == 5


def test_a_concatenation_shares_a_leaf_it_already_holds(parts) -> None:
    a, b, _ = parts
    view = gather_tensors(a.subset([0, 1])).concat(gather_tensors(a.subset([5]))).concat(gather_tensors(b))
    assert len(view.leaves) == 2 and view.leaf_of.tolist() == [0, 0, 0] + [1] * 20
    assert view.local.tolist()[:3] == [0, 1, 5]


def test_nothing_is_reported_before_the_first_batch(parts) -> None:
    loader = DeviceBatchLoader(parts[0], 8, own=torch.ones(30, dtype=torch.bool))
    assert loader.last_own is None and loader.last_composition is None and loader.dataset is parts[0]


def test_one_source_sample_per_batch_is_drawn(parts) -> None:
    a, b, _ = parts
    loader = MixedBatchLoader(a.subset([0, 1, 2]), b, 4, 0.75, generator=torch.Generator().manual_seed(0))
    ids = _all(loader)[0]
    assert len(loader) == 1 and len(ids) == 4 and sum(i >= 500 for i in ids) == 1


def test_device_batches_shuffle_with_seed_zero_by_default_on_both_paths(parts) -> None:
    a, _, _ = parts
    cpu = torch.device("cpu")
    assert _all(device_batches(a, 8, cpu, shuffle=True))[0] == _all(device_batches(a, 8, cpu, True, 0))[0]
    flipped = a.replace_current_transform_group(lambda x: x.flip(-1))
    labels = torch.cat([b[1] for b in device_batches(flipped, 8, cpu, shuffle=True)])
    assert labels.tolist() != [i % 7 for i in range(30)] and sorted(labels.tolist()) == sorted(
        i % 7 for i in range(30)
    )


def test_the_loaders_take_a_tensor_view_as_well(parts) -> None:
    a, b, _ = parts
    view = gather_tensors(a.subset([3, 4]))
    assert _all(DeviceBatchLoader(view, 4))[0] == [3, 4]
    mixed = MixedBatchLoader(view, gather_tensors(b), 4, 0.5, generator=torch.Generator().manual_seed(0))
    assert mixed.last_composition is None and mixed.last_own is None  # nothing before the first batch
    ids = _all(mixed)[0]
    assert {i for i in ids if i < 500} <= {3, 4} and sum(i >= 500 for i in ids) == 2 == len(ids) - 2


def test_a_batch_may_hold_no_target_sample_when_the_share_is_small(parts) -> None:
    a, b, _ = parts
    assert MixedBatchLoader(a, b, 10, 0.02).target_counts(5).tolist() == [0, 0, 1, 0, 0]  # 0.2 per batch


def test_an_empty_source_message_names_the_loader(parts) -> None:
    with pytest.raises(ValueError, match=r"^MixedBatchLoader: the source dataset is empty"):
        MixedBatchLoader(parts[0], parts[1].subset([]), 8, 0.5)
