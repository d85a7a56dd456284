import pytest
import torch

from fer_avalanche.data.ferdata import FERData
from fer_avalanche.errors import DatasetError
from fer_avalanche.labels import BASIC8


def _data(n=10, **kw):
    args = dict(
        name="toy",
        images=torch.zeros(n, 1, 48, 48, dtype=torch.uint8),
        labels=torch.arange(n) % 7,
        split=torch.arange(n) % 3,
    )
    args.update(kw)
    return FERData(**args)


def test_views_and_counts():
    data = _data(9)
    assert data.counts() == {"train": 3, "val": 3, "test": 3}
    assert len(data.test) == 3 and bool((data.test.split == 2).all())
    assert data.class_counts()["angry"] == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"images": torch.zeros(10, 3, 48, 48, dtype=torch.uint8)}, "uint8 \\[N, 1, H, W\\]"),
        ({"images": torch.zeros(10, 1, 48, 48)}, "uint8"),
        ({"labels": torch.arange(9)}, "labels must have shape \\[10\\]"),
        ({"labels": torch.full((10,), 7)}, "label 7 out of range"),
        ({"split": torch.full((10,), 3)}, "split codes"),
        ({"subjects": torch.arange(3)}, "subjects must have shape"),
    ],
)
def test_construction_rejects_bad_fields(kwargs, message):
    with pytest.raises(DatasetError, match=message):
        _data(**kwargs)


def test_empty_dataset_rejected():
    with pytest.raises(DatasetError, match="no samples"):
        _data(0)


def test_missing_split_names_the_remedy():
    data = _data(6, split=torch.zeros(6, dtype=torch.long))
    with pytest.raises(DatasetError, match="no 'test' samples.*resplit"):
        _ = data.test


def test_contempt_label_valid_only_in_basic8():
    labels = torch.full((10,), 7)
    assert _data(labels=labels, label_space=BASIC8).class_counts()["contempt"] == 10


def test_array_round_trip_keeps_everything():
    data = _data(12, subjects=torch.arange(12) % 4, provenance={"format": "x"})
    back = FERData.from_arrays(data.to_arrays(), data.name, data.label_space, data.provenance)
    for field in ("images", "labels", "split", "subjects"):
        assert torch.equal(getattr(back, field), getattr(data, field))
    assert back.provenance == {"format": "x"}


def test_summary_is_json_ready():
    import json

    summary = _data(10, subjects=torch.arange(10) % 2).summary()
    json.dumps(summary)
    assert summary["total"] == 10 and summary["subjects"] == 2
