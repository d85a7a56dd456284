"""Generic class-folder loader: both layouts, label maps, subjects, contempt policy, broken inputs."""

from __future__ import annotations

import pytest
from fixtures import write_corrupt_image, write_image, write_truncated_image

from fer_avalanche import load_dataset
from fer_avalanche.errors import ConfigError, DatasetError


def load(root, tmp_path, **kw):
    return load_dataset("folder", root, cache_dir=tmp_path / "cache", **kw)


def test_class_folders_default_names(tmp_path):
    root = tmp_path / "lab"
    write_image(root / "Happiness" / "s01_a.png", size=(80, 60))
    write_image(root / "anger" / "s02_b.jpg", size=(80, 60), mode="RGB", seed=1)
    write_image(root / "SU" / "deeper" / "s01_c.png", size=(80, 60), seed=2)
    (root / "README.txt").write_text("hi")
    (root / "anger" / "notes.txt").write_text("hi")
    with pytest.warns(UserWarning, match="skipped 1 file outside class folders, 1 not an image file"):
        data = load(root, tmp_path, image_size=32)
    assert data.name == "lab" and len(data) == 3
    assert data.counts()["train"] == 3 and data.provenance["split"] == "none (all train)"
    assert data.class_counts() == {
        "angry": 1,
        "disgust": 0,
        "fear": 0,
        "happy": 1,
        "sad": 0,
        "surprise": 1,
        "neutral": 0,
    }
    assert data.image_size == (32, 32)
    assert data.provenance["source_size"] == [60, 80]
    assert data.provenance["skipped"] == {"file outside class folders": 1, "not an image file": 1}
    assert data.subjects is None


def test_split_folders_and_subjects(tmp_path):
    root = tmp_path / "ds"
    write_image(root / "train" / "happy" / "S01_1.png")
    write_image(root / "train" / "sad" / "S02_1.png", seed=1)
    write_image(root / "Valid" / "happy" / "S03_1.png", seed=2)
    write_image(root / "test" / "sad" / "S04_1.png", seed=3)
    write_image(root / "test" / "sad" / "S01_2.png", seed=4)
    data = load(root, tmp_path, subject_regex=r"^(S\d+)_")
    assert data.counts() == {"train": 2, "val": 1, "test": 2}
    assert data.provenance["split"] == "official" and data.num_subjects == 4


def test_subject_regex_mismatch_and_invalid(tmp_path):
    write_image(tmp_path / "d" / "happy" / "nosubject.png")
    with pytest.raises(DatasetError, match="nosubject.png: file name does not match subject_regex"):
        load(tmp_path / "d", tmp_path, subject_regex=r"^(S\d+)_")
    with pytest.raises(ConfigError, match="not a valid regular expression"):
        load(tmp_path / "d", tmp_path, subject_regex="(")


def test_label_map_case_insensitive_and_ignore(tmp_path):
    root = tmp_path / "tfeid"
    write_image(root / "HAP" / "a.png")
    write_image(root / "ang" / "b.png", seed=1)
    write_image(root / "junk" / "c.png", seed=2)
    with pytest.warns(UserWarning, match="ignored by label_map"):
        data = load(root, tmp_path, label_map={"hap": "happiness", "ang": "anger", "junk": None})
    assert sorted(data.labels.tolist()) == [0, 3]
    assert data.provenance["skipped"] == {"ignored by label_map (junk)": 1}


def test_unknown_folder_lists_found_and_expected(tmp_path):
    root = tmp_path / "d"
    write_image(root / "happy" / "a.png")
    write_image(root / "bored" / "b.png", seed=1)
    with pytest.raises(
        DatasetError, match=r"bored are not known \(found: bored, happy; expected angry.*contempt"
    ):
        load(root, tmp_path)
    with pytest.raises(DatasetError, match=r"found: bored, happy; expected happy\)"):
        load(root, tmp_path, label_map={"happy": "happy"})
    with pytest.warns(UserWarning, match="unknown class folder"):
        data = load(root, tmp_path, ignore_unknown=True)
    assert len(data) == 1 and data.provenance["skipped"] == {"unknown class folder (bored)": 1}


def test_bad_label_map_value(tmp_path):
    write_image(tmp_path / "d" / "x" / "a.png")
    with pytest.raises(ConfigError, match=r"label_map\['x'\]: unknown expression 'glad'"):
        load(tmp_path / "d", tmp_path, label_map={"x": "glad"})


def test_contempt_policy(tmp_path):
    root = tmp_path / "ck"
    write_image(root / "contempt" / "a.png")
    write_image(root / "happy" / "b.png", seed=1)
    with pytest.warns(UserWarning, match="outside basic7"):
        data7 = load(root, tmp_path)
    assert len(data7) == 1 and data7.provenance["skipped"] == {"outside basic7 (contempt)": 1}
    data8 = load(root, tmp_path, label_space="basic8")
    assert sorted(data8.labels.tolist()) == [3, 7] and data8.provenance["skipped"] == {}


@pytest.mark.parametrize("writer", [write_corrupt_image, write_truncated_image], ids=["corrupt", "truncated"])
def test_broken_image(tmp_path, writer):
    root = tmp_path / "d"
    write_image(root / "happy" / "good.png")
    writer(root / "sad" / "bad.png")
    with pytest.raises(DatasetError, match=r"bad\.png: cannot decode image.*skip_corrupt=True"):
        load(root, tmp_path)
    with pytest.warns(UserWarning) as record:
        data = load(root, tmp_path, skip_corrupt=True)
    assert any("bad.png" in str(w.message) for w in record)
    assert len(data) == 1 and data.provenance["skipped"] == {"unreadable image": 1}


def test_missing_root_file_root_and_empty(tmp_path):
    with pytest.raises(DatasetError, match="folder not found"):
        load(tmp_path / "nope", tmp_path)
    path = write_image(tmp_path / "one.png")
    with pytest.raises(DatasetError, match="is a file, expected a folder"):
        load(path, tmp_path)
    (tmp_path / "flat").mkdir()
    write_image(tmp_path / "flat" / "a.png")
    with pytest.raises(DatasetError, match="no class folders found"):
        load(tmp_path / "flat", tmp_path)


def test_split_folders_mixed_with_others(tmp_path):
    root = tmp_path / "d"
    write_image(root / "train" / "happy" / "a.png")
    write_image(root / "extra" / "happy" / "b.png", seed=1)
    with pytest.raises(DatasetError, match=r"mixes split folders \(train\) with other folders \(extra\)"):
        load(root, tmp_path)
