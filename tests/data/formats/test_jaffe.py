"""JAFFE loader on tiny fixtures written in the real layout (flat folder of SS.EEn.NNN.tiff)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from fer_avalanche.data.registry import load_dataset
from fer_avalanche.errors import DatasetError, LabelError
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


def test_palette_tiff_is_read_as_grey(jaffe: Path, tmp_path: Path) -> None:
    with Image.open(jaffe / "KA.AN1.39.tiff") as image:
        assert image.mode == "P"
    data = _load(jaffe, tmp_path, face_crop="none", image_size=32)
    assert data.images[0].float().std() > 10  # a real picture, not a flat palette index map


def test_center_crop_is_default_and_differs_from_none(jaffe: Path, tmp_path: Path) -> None:
    center = _load(jaffe, tmp_path)
    none = _load(jaffe, tmp_path, face_crop="none")
    assert center.provenance["preprocessing"]["face_crop"] == "center"
    assert not torch.equal(center.images, none.images)


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
