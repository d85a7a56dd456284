"""Generic CSV-list loader: names and coded labels, subjects, splits, row-numbered errors."""

from __future__ import annotations

import pytest
from fixtures import write_corrupt_image, write_csv, write_image

from fer_avalanche import load_dataset
from fer_avalanche.errors import ConfigError, DatasetError


def load(root, tmp_path, **kw):
    return load_dataset("csv", root, cache_dir=tmp_path / "cache", **kw)


@pytest.fixture
def images(tmp_path):
    root = tmp_path / "ds"
    for i in range(4):
        write_image(root / "img" / f"{i}.png", size=(50, 40), seed=i)
    return root


def test_names_subjects_splits(tmp_path, images):
    path = write_csv(
        images / "labels.csv",
        ["Path", "label", "subject", "split", "note"],
        [
            ["img/0.png", "happy", "s1", "train", "x"],
            ["img/1.png", "Sadness", "s2", "valid", ""],
            ["img/2.png", "AN", "s1", "test", ""],
            ["img/3.png", "contempt", "s3", "", ""],
        ],
    )
    with pytest.warns(UserWarning, match="outside basic7"):
        data = load(path, tmp_path)
    assert data.name == "labels"
    assert data.labels.tolist() == [3, 4, 0]
    assert data.split.tolist() == [0, 1, 2]
    assert data.num_subjects == 2
    assert data.provenance["skipped"] == {"outside basic7 (contempt)": 1}
    assert data.provenance["source_size"] == [40, 50]
    data8 = load(images, tmp_path, label_space="basic8")  # a folder holding exactly one .csv
    assert data8.labels.tolist() == [3, 4, 0, 7]


def test_integer_codes_need_label_map(tmp_path, images):
    path = write_csv(images / "l.csv", ["path", "label"], [["img/0.png", 0], ["img/1.png", 1]])
    with pytest.raises(DatasetError, match=r"l\.csv: line 2: unknown expression '0'.*label_map"):
        load(path, tmp_path)
    data = load(path, tmp_path, label_map={0: "neutral", 1: "happy"})
    assert data.labels.tolist() == [6, 3]
    write_csv(path, ["path", "label"], [["img/0.png", 0], ["img/1.png", 5]])
    with pytest.raises(DatasetError, match=r"line 3: label '5' is not in label_map"):
        load(path, tmp_path, label_map={0: "neutral", 1: "happy"})
    with pytest.raises(ConfigError, match="label_map"):
        load(path, tmp_path, label_map={0: "glad"})


@pytest.mark.parametrize(
    "row, message",
    [
        (["img/1.png"], "line 3: 1 fields, expected 2"),
        (["", "happy"], "line 3: empty path"),
        (["img/1.png", "bored"], "line 3: unknown expression 'bored'"),
    ],
)
def test_malformed_rows_name_the_line(tmp_path, images, row, message):
    path = write_csv(images / "l.csv", ["path", "label"], [["img/0.png", "happy"], row])
    with pytest.raises(DatasetError, match=message):
        load(path, tmp_path)


def test_bad_split_and_missing_columns(tmp_path, images):
    path = write_csv(images / "l.csv", ["path", "label", "split"], [["img/0.png", "happy", "holdout"]])
    with pytest.raises(DatasetError, match="line 2: unknown split 'holdout'"):
        load(path, tmp_path)
    path = write_csv(images / "l.csv", ["file", "label"], [["img/0.png", "happy"]])
    with pytest.raises(DatasetError, match=r"lacks column\(s\) path"):
        load(path, tmp_path)


def test_missing_and_corrupt_images(tmp_path, images):
    write_corrupt_image(images / "img" / "bad.png")
    path = write_csv(
        images / "l.csv",
        ["path", "label"],
        [["img/0.png", "happy"], ["img/bad.png", "sad"], ["img/gone.png", "sad"]],
    )
    with pytest.raises(DatasetError, match=r"gone\.png: image file not found"):
        load(path, tmp_path)
    write_csv(path, ["path", "label"], [["img/0.png", "happy"], ["img/bad.png", "sad"]])
    with pytest.raises(DatasetError, match=r"bad\.png: cannot decode image"):
        load(path, tmp_path)
    write_csv(
        path, ["path", "label"], [["img/0.png", "happy"], ["img/bad.png", "sad"], ["img/gone.png", "sad"]]
    )
    with pytest.warns(UserWarning):
        data = load(path, tmp_path, skip_corrupt=True)
    assert len(data) == 1
    assert data.provenance["skipped"] == {"unreadable image": 1, "missing image file": 1}


def test_base_dir_and_root_errors(tmp_path, images):
    path = write_csv(tmp_path / "lists" / "l.csv", ["path", "label"], [["img/0.png", "happy"]])
    assert len(load(path, tmp_path, base_dir=images)) == 1
    with pytest.raises(DatasetError, match="not found"):
        load(tmp_path / "nope.csv", tmp_path)
    write_csv(tmp_path / "lists" / "m.csv", ["path", "label"], [])
    with pytest.raises(DatasetError, match="exactly one .csv; found l.csv, m.csv"):
        load(tmp_path / "lists", tmp_path)
    with pytest.raises(DatasetError, match="no rows after the header"):
        load(tmp_path / "lists" / "m.csv", tmp_path)


def test_relabel_invalidates_cache(tmp_path, images):
    path = write_csv(images / "l.csv", ["path", "label"], [["img/0.png", "happy"]])
    assert load(path, tmp_path).labels.tolist() == [3]
    assert load(path, tmp_path).provenance["cache"] == "hit"
    write_csv(path, ["path", "label"], [["img/0.png", "sad"]])
    data = load(path, tmp_path)
    assert data.provenance["cache"] == "miss" and data.labels.tolist() == [4]
