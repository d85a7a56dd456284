import pytest
import torch

from fer_avalanche.benchmarks import (
    as_avalanche_dataset,
    class_incremental_benchmark,
    cross_dataset_benchmark,
)
from fer_avalanche.errors import ConfigError, DatasetError


def test_cross_dataset_streams_are_index_aligned(make_fer):
    a, b, c = make_fer("src", n=210), make_fer("t1", n=70, seed=1), make_fer("t2", n=70, seed=2)
    bm = cross_dataset_benchmark([a, b, c], with_validation=True)
    for stream in (bm.train_stream, bm.test_stream, bm.valid_stream):
        assert [e.dataset_name for e in stream] == ["src", "t1", "t2"]
    assert bm.dataset_names == ["src", "t1", "t2"]
    assert len(bm.train_stream[0].dataset) == a.counts()["train"]
    assert len(bm.test_stream[1].dataset) == b.counts()["test"]


def test_samples_are_normalised_images_labels_and_task_zero(make_fer):
    data = make_fer(n=70)
    ds = as_avalanche_dataset(data, "test")
    x, y, t = ds[0]
    first = data.test
    assert x.dtype == torch.float32 and x.shape == (1, 48, 48)
    assert torch.allclose(x, first.images[0].float() / 127.5 - 1.0)
    assert y == int(first.labels[0]) and t == 0


def test_duplicate_dataset_names_rejected(make_fer):
    with pytest.raises(ConfigError, match="unique"):
        cross_dataset_benchmark([make_fer("a"), make_fer("a")])


def test_empty_test_split_names_the_dataset(make_fer):
    data = make_fer("lonely")
    data.split = torch.zeros(len(data), dtype=torch.long)
    with pytest.raises(DatasetError, match="'lonely' has no 'test' samples"):
        cross_dataset_benchmark([data])


def test_class_incremental_keeps_every_class(make_fer):
    data = make_fer(n=140)
    bm = class_incremental_benchmark(data, 3)
    groups = [e.classes_in_this_experience for e in bm.train_stream]
    assert groups == [[0, 1, 2], [3, 4, 5], [6]]  # the leftover class is its own experience
    for exp, group in zip(bm.test_stream, groups, strict=True):
        assert set(exp.dataset.targets) <= set(group)


def test_class_incremental_explicit_groups_by_name(make_fer):
    bm = class_incremental_benchmark(make_fer(n=140), [["happy", "sad"], ["angry"]])
    assert [e.classes_in_this_experience for e in bm.train_stream] == [[3, 4], [0]]
    with pytest.raises(ConfigError, match="two experiences"):
        class_incremental_benchmark(make_fer(n=140), [[0, 1], [1]])
