"""Device-resident loaders: datasets resolved to tensors, batches by index, mixed batches by share."""

import math

import pytest
import torch

from fer_avalanche.benchmarks import cross_dataset_benchmark
from fer_avalanche.loaders import DeviceBatchLoader, MixedBatchLoader, gather_tensors


def _reference(ds):
    xs, ys = zip(*[(ds[i][0], ds[i][1]) for i in range(len(ds))], strict=True)
    return torch.stack(xs), torch.tensor(ys)


def test_concatenated_subsets_resolve_to_the_same_samples(make_fer):
    bm = cross_dataset_benchmark([make_fer("a", n=210), make_fer("b", n=70, seed=1)])
    a, b = bm.train_stream[0].dataset, bm.train_stream[1].dataset
    mixed = a.subset(list(range(5, 40))).concat(b).concat(a.subset([3, 1]))
    loader = DeviceBatchLoader(mixed, batch_size=16)
    x = torch.cat([batch[0] for batch in loader])
    y = torch.cat([batch[1] for batch in loader])
    ref_x, ref_y = _reference(mixed)
    assert torch.equal(x, ref_x) and torch.equal(y, ref_y)
    assert len(loader) == -(-len(mixed) // 16)


def test_shuffle_is_reproducible_from_the_generator(make_fer):
    ds = cross_dataset_benchmark([make_fer(n=140)]).train_stream[0].dataset

    def order(seed):
        loader = DeviceBatchLoader(ds, 8, shuffle=True, generator=torch.Generator().manual_seed(seed))
        return torch.cat([b[1] for b in loader])

    assert torch.equal(order(1), order(1))
    assert not torch.equal(order(1), order(2))


def test_dataset_with_transforms_falls_back_to_avalanche(make_fer):
    ds = cross_dataset_benchmark([make_fer(n=70)]).train_stream[0].dataset
    assert gather_tensors(ds) is not None
    flipped = ds.replace_current_transform_group(lambda x: x.flip(-1))
    assert gather_tensors(flipped) is None


# ------------------------------------------------------------------------------ batch mixing
def _numbered(name, n, first_id=0):
    """A train-only FERData whose image pixels (0, 0) and (0, 1) spell each sample's id."""
    from fer_avalanche.benchmarks import as_avalanche_dataset
    from fer_avalanche.data.ferdata import FERData

    ids = torch.arange(first_id, first_id + n)
    images = torch.zeros(n, 1, 8, 8, dtype=torch.uint8)
    images[:, 0, 0, 0] = (ids % 256).to(torch.uint8)
    images[:, 0, 0, 1] = (ids // 256).to(torch.uint8)
    data = FERData(name=name, images=images, labels=ids % 7, split=torch.zeros(n, dtype=torch.long))
    return as_avalanche_dataset(data, "train")


def _ids(x):
    pixels = torch.round((x[:, 0, 0, :2] * 0.5 + 0.5) * 255).long()
    return pixels[:, 0] + 256 * pixels[:, 1]


TARGET_IDS, SOURCE_IDS = 1000, 0


@pytest.fixture
def mixed_parts():
    return _numbered("tgt", 50, first_id=TARGET_IDS), _numbered("src", 300, first_id=SOURCE_IDS)


@pytest.mark.parametrize("fraction", [0.25, 0.3, 0.5, 0.9])
def test_mixed_batches_hold_the_target_fraction(mixed_parts, fraction):
    target, source = mixed_parts
    loader = MixedBatchLoader(target, source, 32, fraction, generator=torch.Generator().manual_seed(0))
    assert len(loader) == math.ceil(50 / (fraction * 32))
    shares, seen = [], []
    for _ in range(20):
        for x, _y, _t in loader:
            ids = _ids(x)
            is_target = ids >= TARGET_IDS
            assert len(ids) == 32
            assert abs(int(is_target.sum()) - fraction * 32) < 1  # each batch: the share, up to rounding
            assert loader.last_composition == (int(is_target.sum()), int((~is_target).sum()))
            shares.append(float(is_target.float().mean()))
            seen.append(ids)
    assert abs(sum(shares) / len(shares) - fraction) < 0.01
    ids = torch.cat(seen)
    target_ids, source_ids = ids[ids >= TARGET_IDS] - TARGET_IDS, ids[ids < TARGET_IDS]
    assert set(target_ids.tolist()) == set(range(50)) and set(source_ids.tolist()) <= set(range(300))
    # the source part cycles through permutations: the first 300 source draws are all distinct
    first = source_ids[:300].tolist()
    assert len(set(first)) == len(first) >= 100


def test_mixed_target_draws_are_with_replacement(mixed_parts):
    target, source = mixed_parts
    loader = MixedBatchLoader(target, source, 25, 1.0, generator=torch.Generator().manual_seed(1))
    ids = torch.cat([_ids(x) for x, _y, _t in loader]) - TARGET_IDS
    assert len(ids) == 50 and len(set(ids.tolist())) < 50  # one expected pass, with repeats


def test_mixed_batches_are_reproducible_from_the_generator(mixed_parts):
    def ids(seed):
        loader = MixedBatchLoader(*mixed_parts, 16, 0.5, generator=torch.Generator().manual_seed(seed))
        return torch.cat([_ids(b[0]) for b in loader])

    assert torch.equal(ids(3), ids(3)) and not torch.equal(ids(3), ids(4))


def test_labels_follow_their_samples_in_mixed_batches(mixed_parts):
    loader = MixedBatchLoader(*mixed_parts, 16, 0.5, generator=torch.Generator().manual_seed(0))
    for x, y, _t in loader:
        assert torch.equal(y, _ids(x) % 7)


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"target_fraction": 0.0}, "target_fraction"), ({"batch_size": 1}, "batch_size")]
)
def test_mixed_loader_rejects_bad_settings(mixed_parts, kwargs, match):
    settings = {"batch_size": 16, "target_fraction": 0.5, **kwargs}
    with pytest.raises(ValueError, match=match):
        MixedBatchLoader(*mixed_parts, **settings)


def test_loader_reports_the_composition_of_a_concatenation(mixed_parts):
    target, source = mixed_parts
    union = target.concat(source.subset(list(range(40))))
    loader = DeviceBatchLoader(union, 16, shuffle=True, generator=torch.Generator().manual_seed(0))
    assert loader.last_composition is None
    loader.track(loader.view.member_of(gather_tensors(target)))
    total = [0, 0]
    for x, _y, _t in loader:
        own = int((_ids(x) >= TARGET_IDS).sum())
        assert loader.last_composition == (own, len(x) - own)
        total[0] += own
        total[1] += len(x) - own
    assert total == [50, 40]


def test_member_of_matches_samples_by_leaf_and_row(mixed_parts):
    target, source = mixed_parts
    view = gather_tensors(source.subset([5, 6, 7]).concat(target.subset([0, 1])).concat(source.subset([9])))
    assert view.member_of(gather_tensors(source.subset([6, 9]))).tolist() == [
        False,
        True,
        False,
        False,
        False,
        True,
    ]
    assert view.member_of(gather_tensors(target)).tolist() == [False, False, False, True, True, False]
