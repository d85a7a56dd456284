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


def test_groups_are_validated_and_kept_by_every_view():
    groups = torch.arange(12) // 3
    data = _data(12, subjects=torch.arange(12) // 6, groups=groups)
    with pytest.raises(DatasetError, match="groups must have shape"):
        _data(12, groups=torch.arange(5))
    assert data.num_groups == 4 and data.group_counts() == {"train": 4, "val": 4, "test": 4}
    assert torch.equal(data.subset(torch.tensor([0, 4, 8])).groups, torch.tensor([0, 1, 2]))
    assert torch.equal(data.test.groups, groups[data.split == 2])
    moved = data.with_split(torch.arange(12) // 6, "by hand")
    assert torch.equal(moved.groups, groups) and moved.group_counts() == {"train": 2, "val": 2, "test": 0}
    back = FERData.from_arrays(data.to_arrays(), data.name, data.label_space, data.provenance)
    assert torch.equal(back.groups, groups)
    assert "groups=4" in repr(data)
    summary = data.summary()
    assert summary["groups"] == 4 and summary["per_split_groups"] == {"train": 4, "val": 4, "test": 4}
    assert _data(3).summary()["groups"] is None and _data(3).group_counts() is None


def test_groups_survive_the_decode_cache(tmp_path):
    from fer_avalanche.data.cache import cached_load

    data = _data(6, groups=torch.tensor([5, 5, 1, 1, 9, 9]))
    first = cached_load("toy", [], {"k": 1}, lambda: data, cache_dir=tmp_path)
    hit = cached_load("toy", [], {"k": 1}, lambda: pytest.fail("not a cache hit"), cache_dir=tmp_path)
    assert first.provenance["cache"] == "miss" and hit.provenance["cache"] == "hit"
    assert torch.equal(hit.groups, data.groups)


def test_ferdata_and_splits_do_not_import_each_other():
    # splits imports ferdata for type checking only; ferdata imports splits (no cycle)
    import ast
    import inspect

    from fer_avalanche.data import ferdata, splits

    def runtime_imports(module) -> set[str]:
        found = set()
        for node in ast.parse(inspect.getsource(module)).body:  # module level, not under TYPE_CHECKING
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
        return found

    assert not {m for m in runtime_imports(splits) if m.startswith("fer_avalanche.data.ferdata")}
    assert "fer_avalanche.data.splits" in runtime_imports(ferdata)
