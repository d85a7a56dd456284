"""RAF-DB loader on tiny fixtures: the official EmoLabel + Image layout and the Kaggle mirror."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from fixtures import crop_of
from PIL import Image

from fer_avalanche.data.imageio import opencv_available
from fer_avalanche.data.registry import load_dataset
from fer_avalanche.errors import DatasetError, LabelError
from fer_avalanche.labels import BASIC7


def _image(path: Path, seed: int = 0, size: tuple[int, int] = (40, 40)) -> Path:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), "RGB").save(path)
    return path


# name -> code (1 surprise, 2 fear, 3 disgust, 4 happy, 5 sad, 6 angry, 7 neutral)
LABELS = {
    "train_00001.jpg": 5,
    "train_00002.jpg": 1,
    "train_00003.jpg": 7,
    "test_0001.jpg": 4,
    "test_0002.jpg": 6,
}
EXPECTED = ["sad", "surprise", "neutral", "happy", "angry"]


def _official(base: Path, aligned: bool = True, original: bool = True) -> Path:
    label = base / "EmoLabel" / "list_patition_label.txt"
    label.parent.mkdir(parents=True)
    label.write_text("".join(f"{name} {code}\n" for name, code in LABELS.items()) + "\n")
    for i, name in enumerate(LABELS):
        if original:
            _image(base / "Image" / "original" / name, seed=i, size=(60, 50))
        if aligned:
            _image(base / "Image" / "aligned" / f"{Path(name).stem}_aligned.jpg", seed=i)
    return base


@pytest.fixture
def official(tmp_path: Path) -> Path:
    return _official(tmp_path / "RAF-DB" / "basic")


@pytest.fixture
def kaggle(tmp_path: Path) -> Path:
    root = tmp_path / "kaggle"
    rows = {"train": [], "test": []}
    for i, (name, code) in enumerate(LABELS.items()):
        split = name.split("_")[0]
        file = f"{Path(name).stem}_aligned.jpg"
        _image(root / "DATASET" / split / str(code) / file, seed=i)
        rows[split].append(f"{file},{code}\n")
    for split, lines in rows.items():
        (root / f"{split}_labels.csv").write_text("image,label\n" + "".join(lines))
    return root


def _load(root: Path, tmp_path: Path, **kw):
    return load_dataset("rafdb", root, cache_dir=tmp_path / "cache", **kw)


def _names(data) -> list[str]:
    return [BASIC7.names[i] for i in data.labels.tolist()]


def test_official_labels_and_splits(official: Path, tmp_path: Path) -> None:
    data = _load(official, tmp_path)
    assert _names(data) == EXPECTED
    assert data.split.tolist() == [0, 0, 0, 2, 2] and data.counts() == {"train": 3, "val": 0, "test": 2}
    assert tuple(data.images.shape) == (5, 1, 48, 48) and data.images.dtype == torch.uint8
    assert data.subjects is None and "aligned" in data.provenance["label_rule"]


def test_aligned_preferred_else_original(official: Path, tmp_path: Path) -> None:
    aligned = _load(official.parent, tmp_path)  # root may be the parent of basic/
    original = _load(official, tmp_path, aligned=False)
    assert "original" in original.provenance["label_rule"]
    assert not torch.equal(aligned.images, original.images)
    only_original = _official(tmp_path / "only", aligned=False)
    assert "original" in _load(only_original, tmp_path).provenance["label_rule"]


def test_center_crop_is_the_centred_square_of_three_quarters(official: Path, tmp_path: Path) -> None:
    center = _load(official, tmp_path, aligned=False, face_crop="center")
    # originals are 60 wide, 50 high: side round(50 * 0.75) = 38 at x = (60 - 38) // 2, y = (50 - 38) // 2
    first = official / "Image" / "original" / "train_00001.jpg"
    assert np.array_equal(center.images[0, 0].numpy(), crop_of(first, rows=(6, 44), cols=(11, 49)))


def test_default_crop_aligned_none_originals_detected(official: Path, tmp_path: Path) -> None:
    assert _load(official, tmp_path).provenance["preprocessing"]["face_crop"] == "none"
    assert _load(official, tmp_path, aligned=False).provenance["preprocessing"]["face_crop"] == (
        "detect" if opencv_available() else "center"
    )


def test_malformed_line_names_file_and_line(official: Path, tmp_path: Path) -> None:
    label = official / "EmoLabel" / "list_patition_label.txt"
    label.write_text("train_00001.jpg 5\ntrain_00002.jpg\n")
    with pytest.raises(DatasetError, match=r"list_patition_label\.txt, line 2: malformed"):
        _load(official, tmp_path)
    label.write_text("train_00001.jpg five\n")
    with pytest.raises(DatasetError, match="line 1: malformed label 'five'"):
        _load(official, tmp_path)
    label.write_text("train_00001.jpg 5\ntrain_00002.jpg 9\n")
    with pytest.raises(LabelError, match=r"line 2: unknown RAF-DB label code 9"):
        _load(official, tmp_path)
    label.write_text("val_00001.jpg 5\n")
    with pytest.raises(DatasetError, match="line 1.*train_ or test_"):
        _load(official, tmp_path)


def test_missing_listed_image(official: Path, tmp_path: Path) -> None:
    (official / "Image" / "aligned" / "test_0002_aligned.jpg").unlink()
    with pytest.raises(DatasetError, match=r"test_0002_aligned\.jpg: image listed in .*line 5 not found"):
        _load(official, tmp_path)
    with pytest.warns(UserWarning, match="listed image missing"):
        data = _load(official, tmp_path, skip_corrupt=True)
    assert len(data) == 4 and data.provenance["skipped"] == {"listed image missing": 1}


def test_editing_the_label_file_invalidates_the_cache(official: Path, tmp_path: Path) -> None:
    first = _load(official, tmp_path)
    label = official / "EmoLabel" / "list_patition_label.txt"
    label.write_text(label.read_text().replace("train_00001.jpg 5", "train_00001.jpg 2"))
    second = _load(official, tmp_path)
    assert second.provenance["cache"] == "miss" and _names(second)[0] == "fear" and _names(first)[0] == "sad"


def test_kaggle_mirror(kaggle: Path, tmp_path: Path) -> None:
    data = _load(kaggle, tmp_path)
    assert sorted(zip(data.split.tolist(), _names(data), strict=True)) == sorted(
        [(0, "sad"), (0, "surprise"), (0, "neutral"), (2, "happy"), (2, "angry")]
    )
    assert _load(kaggle / "DATASET", tmp_path).counts() == data.counts()
    assert data.provenance["layout"].startswith("Kaggle")


def test_kaggle_csv_disagreeing_with_folder(kaggle: Path, tmp_path: Path) -> None:
    csv = kaggle / "train_labels.csv"
    csv.write_text(csv.read_text().replace("train_00001_aligned.jpg,5", "train_00001_aligned.jpg,3"))
    with pytest.raises(
        DatasetError, match=r"train_00001_aligned\.jpg: in class folder 5 but .* gives label 3"
    ):
        _load(kaggle, tmp_path)
    csv.write_text("image,label\ntrain_00001_aligned.jpg,x\n")
    with pytest.raises(DatasetError, match=r"train_labels\.csv, line 2"):
        _load(kaggle, tmp_path)


def test_layout_mismatch_missing_and_file_root(tmp_path: Path) -> None:
    root = tmp_path / "wrong"
    _image(root / "images" / "a.jpg")
    (root / "labels.txt").write_text("a.jpg 1\n")
    with pytest.raises(DatasetError, match=r"EmoLabel.*DATASET.*found: images/, labels\.txt"):
        _load(root, tmp_path)
    with pytest.raises(DatasetError, match="not found"):
        _load(tmp_path / "nope", tmp_path)
    with pytest.raises(DatasetError, match="is a file"):
        _load(root / "labels.txt", tmp_path)
    no_images = tmp_path / "noimg"
    (no_images / "EmoLabel").mkdir(parents=True)
    (no_images / "EmoLabel" / "list_patition_label.txt").write_text("train_1.jpg 1\n")
    with pytest.raises(DatasetError, match=r"Image/original not found.*found: EmoLabel/"):
        _load(no_images, tmp_path)


@pytest.mark.filterwarnings("ignore:skipping")
def test_corrupt_and_truncated_images(official: Path, tmp_path: Path) -> None:
    (official / "Image" / "aligned" / "train_00002_aligned.jpg").write_bytes(b"nope")
    with pytest.raises(DatasetError, match=r"train_00002_aligned\.jpg: cannot decode"):
        _load(official, tmp_path)
    cut = official / "Image" / "aligned" / "test_0001_aligned.jpg"
    _image(cut, size=(64, 64))
    cut.write_bytes(cut.read_bytes()[:300])
    with pytest.warns(UserWarning, match="unreadable"):
        data = _load(official, tmp_path, skip_corrupt=True)
    assert len(data) == 3 and data.provenance["skipped"] == {"unreadable image": 2}
