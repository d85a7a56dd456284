import torch

from fer_avalanche.benchmarks import cross_dataset_benchmark
from fer_avalanche.loaders import DeviceBatchLoader, gather_tensors


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
