"""AffectNet loader on tiny fixtures: official CSV lists with face boxes, class folders, .npy annotations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from fixtures import crop_of
from PIL import Image

from fer_avalanche.data.registry import load_dataset
from fer_avalanche.errors import ConfigError, DatasetError, LabelError
from fer_avalanche.labels import BASIC7, BASIC8


def _image(path: Path, seed: int = 0, size: tuple[int, int] = (40, 32)) -> Path:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), "RGB").save(path)
    return path


HEADER = (
    "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal\n"
)
# (relative path, expression code, split file)
ROWS = [
    ("689/a1.jpg", 1, "training.csv"),  # happy
    ("689/a2.jpg", 6, "training.csv"),  # anger
    ("690/a3.jpg", 7, "training.csv"),  # contempt
    ("690/a4.jpg", 8, "training.csv"),  # none -> dropped
    ("690/a5.jpg", 1, "training.csv"),  # happy
    ("700/b1.jpg", 0, "validation.csv"),  # neutral
    ("700/b2.jpg", 10, "validation.csv"),  # no-face -> dropped
    ("700/b3.jpg", 3, "validation.csv"),  # surprise
]


#: dropping codes 8-10 is the documented behaviour; its warning is expected in every test here
pytestmark = pytest.mark.filterwarnings("ignore:affectnet. skipped")


def _row(path: str, code: int) -> str:
    return f'{path},4,6,24,20,"1.0;2.0;3.0;4.0",{code},0.5,-0.25\n'


@pytest.fixture
def official(tmp_path: Path) -> Path:
    root = tmp_path / "AffectNet"
    lines: dict[str, list[str]] = {"training.csv": [], "validation.csv": []}
    for i, (path, code, split_file) in enumerate(ROWS):
        base = root / "Manually_Annotated_Images" if i % 2 == 0 else root  # both places are searched
        _image(base / path, seed=i)
        lines[split_file].append(_row(path, code))
    for name, rows in lines.items():
        (root / name).write_text(HEADER + "".join(rows))
    return root


def _load(root: Path, tmp_path: Path, **kw):
    return load_dataset("affectnet", root, cache_dir=tmp_path / "cache", **kw)


def _names(data) -> list[str]:
    return [data.label_space.names[i] for i in data.labels.tolist()]


def test_official_labels_splits_and_dropped_codes(official: Path, tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="contempt"):
        data = _load(official, tmp_path)
    assert _names(data) == ["happy", "angry", "happy", "neutral", "surprise"]
    assert data.split.tolist() == [0, 0, 0, 2, 2]
    assert data.provenance["skipped"] == {
        "expression 8 (none)": 1,
        "expression 10 (no-face)": 1,
        "outside basic7 (contempt)": 1,
    }
    assert tuple(data.images.shape) == (5, 1, 48, 48) and data.images.dtype == torch.uint8
    assert data.subjects is None and "not public" in data.provenance["split_rule"]


def test_basic8_keeps_contempt(official: Path, tmp_path: Path) -> None:
    data = _load(official, tmp_path, label_space="basic8")
    assert data.labels.tolist() == [
        BASIC8.index(n) for n in ["happy", "angry", "contempt", "happy", "neutral", "surprise"]
    ]


def test_face_box_is_used_for_the_crop_as_a_square(official: Path, tmp_path: Path) -> None:
    data = _load(official, tmp_path, label_space="basic8", image_size=24)
    first = official / "Manually_Annotated_Images" / "689" / "a1.jpg"
    # box x=4, y=6, 24 wide, 20 high: the 24 x 24 square around its centre (16, 16), no squashing
    assert np.array_equal(data.images[0, 0].numpy(), crop_of(first, rows=(4, 28), cols=(4, 28), size=24))
    grown = _load(official, tmp_path, label_space="basic8", image_size=24, face_margin=1.25)  # side 30
    assert np.array_equal(grown.images[0, 0].numpy(), crop_of(first, rows=(1, 31), cols=(1, 31), size=24))


def test_editing_a_face_box_invalidates_the_cache(official: Path, tmp_path: Path) -> None:
    first = _load(official, tmp_path, label_space="basic8")
    csv = official / "training.csv"
    csv.write_text(csv.read_text().replace("689/a1.jpg,4,6,24,20", "689/a1.jpg,0,0,40,32"))
    second = _load(official, tmp_path, label_space="basic8")
    assert second.provenance["cache"] == "miss" and not torch.equal(first.images[0], second.images[0])


def test_max_per_class(official: Path, tmp_path: Path) -> None:
    data = _load(official, tmp_path, label_space="basic8", max_per_class=1)
    assert _names(data) == ["happy", "angry", "contempt", "neutral", "surprise"]
    assert data.provenance["excluded_by_max_per_class"] == 1
    with pytest.raises(ConfigError, match="max_per_class"):
        _load(official, tmp_path, max_per_class=0)


def test_malformed_rows_and_codes(official: Path, tmp_path: Path) -> None:
    csv = official / "validation.csv"
    csv.write_text(HEADER + _row("700/b1.jpg", 0) + "700/b3.jpg,1,2\n")
    with pytest.raises(DatasetError, match=r"validation\.csv, line 3: 3 fields"):
        _load(official, tmp_path)
    csv.write_text(HEADER + _row("700/b1.jpg", 12))
    with pytest.raises(LabelError, match=r"validation\.csv, line 2: unknown AffectNet expression code"):
        _load(official, tmp_path)
    csv.write_text(HEADER + _row("700/b1.jpg", 0).replace(",4,6,", ",x,6,"))
    with pytest.raises(DatasetError, match="line 2: face box"):
        _load(official, tmp_path)
    csv.write_text("path,expression\n")
    with pytest.raises(
        DatasetError, match=r"validation\.csv: header lacks column\(s\) subDirectory_filePath"
    ):
        _load(official, tmp_path)


def test_missing_listed_image(official: Path, tmp_path: Path) -> None:
    (official / "689" / "a2.jpg").unlink()
    with pytest.raises(DatasetError, match=r"689/a2\.jpg: image listed in .*training\.csv, line 3 not found"):
        _load(official, tmp_path, label_space="basic8")
    with pytest.warns(UserWarning, match="listed image missing"):
        data = _load(official, tmp_path, label_space="basic8", skip_corrupt=True)
    assert len(data) == 5 and data.provenance["skipped"]["listed image missing"] == 1


def test_class_folder_variant(tmp_path: Path) -> None:
    root = tmp_path / "folders"
    for i, (split, code) in enumerate([("train", 0), ("train", 5), ("train", 9), ("val", 4), ("val", 7)]):
        _image(root / split / str(code) / f"{i}.jpg", seed=i)
    data = _load(root, tmp_path, label_space="basic8")
    assert _names(data) == ["neutral", "disgust", "fear", "contempt"] and data.split.tolist() == [0, 0, 2, 2]
    assert data.provenance["skipped"] == {"expression 9 (uncertain)": 1}
    flat = _load(root / "train", tmp_path)
    assert _names(flat) == ["neutral", "disgust"] and flat.counts()["train"] == 2
    _image(root / "train" / "12" / "x.jpg")
    with pytest.raises(LabelError, match="12"):
        _load(root, tmp_path)


def test_npy_annotation_variant(tmp_path: Path) -> None:
    root = tmp_path / "npy"
    for i, (split, code) in enumerate(
        [("train_set", "1"), ("train_set", 2), ("val_set", "6"), ("val_set", "8")]
    ):
        _image(root / split / "images" / f"{i}.jpg", seed=i)
        (root / split / "annotations").mkdir(parents=True, exist_ok=True)
        np.save(root / split / "annotations" / f"{i}_exp.npy", np.array(code))
    data = _load(root, tmp_path)
    assert _names(data) == ["happy", "sad", "angry"] and data.split.tolist() == [0, 0, 2]
    assert data.provenance["skipped"] == {"expression 8 (none)": 1}
    assert BASIC7.index("angry") == data.labels[2]
    np.save(root / "val_set" / "annotations" / "2_exp.npy", np.array("sad"))
    with pytest.raises(DatasetError, match=r"2_exp\.npy: malformed expression"):
        _load(root, tmp_path)
    (root / "val_set" / "annotations" / "2_exp.npy").unlink()
    with pytest.raises(DatasetError, match=r"2\.jpg: annotation .*2_exp\.npy not found"):
        _load(root, tmp_path)


def test_center_crop_is_the_centred_square_of_three_quarters_for_variants(tmp_path: Path) -> None:
    root = tmp_path / "folders"
    for i in range(3):
        _image(root / str(i) / f"{i}.jpg", seed=i)
    center = _load(root, tmp_path, face_crop="center")
    # 40 wide, 32 high: side round(32 * 0.75) = 24 at x = (40 - 24) // 2, y = (32 - 24) // 2
    assert np.array_equal(
        center.images[0, 0].numpy(), crop_of(root / "0" / "0.jpg", rows=(4, 28), cols=(8, 32))
    )
    whole = _load(root, tmp_path)  # default none: the centred 32 x 32 square, never squashed
    assert np.array_equal(
        whole.images[0, 0].numpy(), crop_of(root / "0" / "0.jpg", rows=(0, 32), cols=(4, 36))
    )


def test_layout_mismatch_missing_and_file_root(tmp_path: Path) -> None:
    root = tmp_path / "wrong"
    _image(root / "faces" / "a.jpg")
    (root / "labels.csv").write_text("a,b\n")
    with pytest.raises(DatasetError, match=r"training\.csv.*0\.\.7.*N_exp\.npy.*found: faces/, labels\.csv"):
        _load(root, tmp_path)
    with pytest.raises(DatasetError, match="not found"):
        _load(tmp_path / "nope", tmp_path)
    with pytest.raises(DatasetError, match="is a file"):
        _load(root / "labels.csv", tmp_path)


@pytest.mark.filterwarnings("ignore:skipping")
@pytest.mark.filterwarnings("ignore:.*outside basic7")
def test_corrupt_and_truncated_images(official: Path, tmp_path: Path) -> None:
    (official / "689" / "a2.jpg").write_bytes(b"junk")
    with pytest.raises(DatasetError, match=r"a2\.jpg: cannot decode"):
        _load(official, tmp_path)
    cut = official / "Manually_Annotated_Images" / "700" / "b3.jpg"
    _image(cut, size=(64, 64))
    cut.write_bytes(cut.read_bytes()[:300])
    with pytest.warns(UserWarning, match="unreadable"):
        data = _load(official, tmp_path, skip_corrupt=True)
    assert len(data) == 3 and data.provenance["skipped"]["unreadable image"] == 2
