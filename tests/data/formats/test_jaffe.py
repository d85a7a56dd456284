"""JAFFE loader on tiny fixtures written in the real layout (flat folder of SS.EEn.NNN.tiff)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from fixtures import crop_of
from PIL import Image

from fer_avalanche.data.imageio import opencv_available
from fer_avalanche.data.registry import load_dataset
from fer_avalanche.errors import ConfigError, DatasetError, LabelError
from fer_avalanche.labels import BASIC7


def _image(path: Path, mode: str = "L", seed: int = 0, size: tuple[int, int] = (32, 40)) -> Path:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(rng.integers(0, 256, (size[1], size[0]), dtype=np.uint8), "L")
    if mode == "P":
        image = image.convert("P")
    elif mode == "RGB":
        image = image.convert("RGB")
    image.save(path)
    return path


FILES = {
    "KA.AN1.39.tiff": "angry",
    "KA.HA2.30.TIFF": "happy",
    "KL.SU1.164.tif": "surprise",
    "KL.NE1.155.tiff": "neutral",
    "YM.DI1.62.tiff": "disgust",
    "YM.FE3.68.tiff": "fear",
    "YM.SA1.55.tiff": "sad",
}


@pytest.fixture
def jaffe(tmp_path: Path) -> Path:
    root = tmp_path / "jaffe"
    for i, name in enumerate(FILES):
        _image(root / name, mode="P" if i == 0 else "L", seed=i)
    return root


def _load(root: Path, tmp_path: Path, **kw):
    return load_dataset("jaffe", root, cache_dir=tmp_path / "cache", **kw)


def test_labels_subjects_and_shape(jaffe: Path, tmp_path: Path) -> None:
    data = _load(jaffe, tmp_path)
    names = sorted(FILES)  # the loader sorts files by name
    assert [BASIC7.names[i] for i in data.labels.tolist()] == [FILES[n] for n in names]
    assert data.images.dtype == torch.uint8 and tuple(data.images.shape) == (7, 1, 48, 48)
    assert data.num_subjects == 3 and data.subjects is not None
    assert data.subjects.tolist() == [0, 0, 1, 1, 2, 2, 2]  # KA, KL, YM
    assert data.counts()["train"] == 7
    assert data.provenance["skipped"] == {}
    assert "SS.EEn.NNN" in data.provenance["label_rule"]


def test_other_files_are_skipped_and_counted(jaffe: Path, tmp_path: Path) -> None:
    (jaffe / "README").write_text("JAFFE readme")
    _image(jaffe / "KA.AN1.39.png")
    with pytest.warns(UserWarning, match="skipped 2 name does not match"):
        data = _load(jaffe, tmp_path)
    assert len(data) == 7 and data.provenance["skipped"] == {"name does not match SS.EEn.NNN.tiff": 2}


def test_palette_tiff_is_read_through_its_grey_palette(jaffe: Path, tmp_path: Path) -> None:
    # a palette image whose index i shows grey 255 - i: reading the raw indices gives the negative
    rng = np.random.default_rng(7)
    indices = rng.integers(0, 256, (40, 32), dtype=np.uint8)
    image = Image.fromarray(indices, "P")
    image.putpalette([v for i in range(256) for v in (255 - i,) * 3])
    image.save(jaffe / "KA.AN1.39.tiff")
    with Image.open(jaffe / "KA.AN1.39.tiff") as check:
        assert check.mode == "P"
    data = _load(jaffe, tmp_path, face_crop="none", image_size=32)  # rows 4:36 of 32 x 40, no resize
    assert data.images[0, 0].numpy().tolist() == (255 - indices[4:36]).tolist()


def test_center_crop_is_the_centred_square_of_three_quarters(jaffe: Path, tmp_path: Path) -> None:
    center = _load(jaffe, tmp_path, face_crop="center")
    # 32 wide, 40 high: side round(32 * 0.75) = 24 at x = (32 - 24) // 2, y = (40 - 24) // 2
    first = jaffe / sorted(FILES)[0]
    assert np.array_equal(center.images[0, 0].numpy(), crop_of(first, rows=(8, 32), cols=(4, 28)))
    margin = _load(jaffe, tmp_path, face_crop="center", face_margin=0.5)  # side 12 at (10, 14)
    assert np.array_equal(margin.images[0, 0].numpy(), crop_of(first, rows=(14, 26), cols=(10, 22)))


def test_default_crop_detects_when_opencv_is_there(jaffe: Path, tmp_path: Path) -> None:
    data = _load(jaffe, tmp_path)
    if opencv_available():
        assert data.provenance["preprocessing"]["face_crop"] == "detect"
        assert data.provenance["face_detection"] == {"detected": 0, "fallback": 7}  # noise has no face
    else:
        assert data.provenance["preprocessing"]["face_crop"] == "center"


def test_default_crop_without_opencv_is_center_with_a_warning(
    jaffe: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "cv2", None)  # import cv2 now raises ImportError
    with pytest.warns(
        UserWarning, match=r"jaffe: OpenCV is not installed.*pip install 'fer-avalanche\[detect\]'"
    ):
        data = _load(jaffe, tmp_path)
    assert data.provenance["preprocessing"]["face_crop"] == "center"
    assert data.provenance["face_detection"] is None
    with pytest.raises(
        ConfigError, match=r"face_crop='detect' needs OpenCV.*pip install 'fer-avalanche\[detect\]'"
    ):
        _load(jaffe, tmp_path, face_crop="detect")


def test_images_in_the_release_subfolder_are_found(tmp_path: Path) -> None:
    root = tmp_path / "download"
    _image(root / "jaffedbase" / "NA.HA1.202.tiff")
    data = _load(root, tmp_path)
    assert len(data) == 1 and BASIC7.names[data.labels[0]] == "happy"


def test_missing_root_and_file_root(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not found"):
        _load(tmp_path / "nope", tmp_path)
    file_root = tmp_path / "file.tiff"
    file_root.write_bytes(b"x")
    with pytest.raises(DatasetError, match="is a file"):
        _load(file_root, tmp_path)


def test_no_matching_file_lists_what_was_found(tmp_path: Path) -> None:
    root = tmp_path / "wrong"
    _image(root / "img001.png")
    (root / "sub").mkdir()
    with pytest.raises(DatasetError, match=r"SS\.EEn\.NNN\.tiff.*found: img001\.png, sub/"):
        _load(root, tmp_path)


def test_unknown_expression_code_names_the_file(jaffe: Path, tmp_path: Path) -> None:
    _image(jaffe / "KA.XX1.40.tiff")
    with pytest.raises(LabelError, match=r"KA\.XX1\.40\.tiff"):
        _load(jaffe, tmp_path)


@pytest.mark.filterwarnings("ignore:skipping")
def test_corrupt_and_truncated_images(jaffe: Path, tmp_path: Path) -> None:
    (jaffe / "KA.SA1.41.tiff").write_bytes(b"not a tiff at all")
    with pytest.raises(DatasetError, match=r"KA\.SA1\.41\.tiff"):
        _load(jaffe, tmp_path)
    good = _image(tmp_path / "t.tiff", size=(64, 64))
    (jaffe / "KA.SA1.41.tiff").unlink()
    (jaffe / "KA.SA1.42.tiff").write_bytes(good.read_bytes()[:200])
    with pytest.raises(DatasetError, match=r"KA\.SA1\.42\.tiff"):
        _load(jaffe, tmp_path)
    (jaffe / "KA.SA1.43.tiff").write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="skipped"):
        data = _load(jaffe, tmp_path, skip_corrupt=True)
    assert len(data) == 7 and data.provenance["skipped"]["unreadable image"] == 2


def test_cache_hit_on_second_load(jaffe: Path, tmp_path: Path) -> None:
    first = _load(jaffe, tmp_path)
    second = _load(jaffe, tmp_path)
    assert (first.provenance["cache"], second.provenance["cache"]) == ("miss", "hit")
    assert torch.equal(first.images, second.images) and torch.equal(first.labels, second.labels)
