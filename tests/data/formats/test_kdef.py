"""KDEF loader on tiny fixtures: KDEF/<AF01>/<AF01ANS>.JPG with session, sex, subject and angle."""

from __future__ import annotations

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


def _image(path: Path, seed: int = 0, size: tuple[int, int] = (32, 40)) -> Path:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), "RGB").save(path, "JPEG")
    return path


FILES = [
    "AF01/AF01AFS.JPG",  # fear, frontal
    "AF01/AF01ANHL.JPG",  # angry, half left
    "AF01/AF01HAS.JPG",  # happy, frontal
    "BF01/BF01SAS.JPG",  # sad, frontal, session B of the same person
    "AM05/AM05DIFR.JPG",  # disgust, full right
    "AM05/am05sus.jpg",  # surprise, frontal, lower case
    "AM05/AM05NES.JPG",  # neutral, frontal
]


@pytest.fixture
def kdef(tmp_path: Path) -> Path:
    root = tmp_path / "KDEF_and_AKDEF" / "KDEF"
    for i, name in enumerate(FILES):
        _image(root / name, seed=i)
    return root


def _load(root: Path, tmp_path: Path, **kw):
    return load_dataset("kdef", root, cache_dir=tmp_path / "cache", **kw)


def _names(data) -> list[str]:
    return [BASIC7.names[i] for i in data.labels.tolist()]


def test_frontal_only_by_default(kdef: Path, tmp_path: Path) -> None:
    data = _load(kdef, tmp_path)
    assert _names(data) == ["fear", "happy", "neutral", "surprise", "sad"]  # AF01, AM05, BF01 folders
    assert tuple(data.images.shape) == (5, 1, 48, 48) and data.images.dtype == torch.uint8
    assert data.subjects is not None and data.subjects.tolist() == [0, 0, 1, 1, 0]  # F01, M05; B shares F01
    assert data.provenance["sessions"] == {"A": 4, "B": 1}
    assert data.provenance["excluded_other_angles"] == 2 and data.provenance["angles"] == ["S"]
    assert data.counts()["train"] == 5


def test_angles_setting(kdef: Path, tmp_path: Path) -> None:
    every = _load(kdef, tmp_path, angles="all")
    assert len(every) == 7 and every.provenance["excluded_other_angles"] == 0
    half = _load(kdef, tmp_path, angles=("hl",))
    assert _names(half) == ["angry"]
    with pytest.raises(ConfigError, match="angles"):
        _load(kdef, tmp_path, angles=("UP",))
    with pytest.raises(DatasetError, match="no KDEF image with angle"):
        _load(kdef, tmp_path, angles=("FL",))


def test_root_may_be_the_parent(kdef: Path, tmp_path: Path) -> None:
    assert torch.equal(_load(kdef.parent, tmp_path).labels, _load(kdef, tmp_path).labels)


def test_center_crop_is_the_centred_square_of_three_quarters(kdef: Path, tmp_path: Path) -> None:
    center = _load(kdef, tmp_path, face_crop="center")
    # 32 wide, 40 high: side round(32 * 0.75) = 24 at x = (32 - 24) // 2, y = (40 - 24) // 2
    first = kdef / "AF01" / "AF01AFS.JPG"
    assert np.array_equal(center.images[0, 0].numpy(), crop_of(first, rows=(8, 32), cols=(4, 28)))
    assert _load(kdef, tmp_path).provenance["preprocessing"]["face_crop"] == (
        "detect" if opencv_available() else "center"
    )


def test_unmatched_names_skipped_and_unknown_code_named(kdef: Path, tmp_path: Path) -> None:
    _image(kdef / "AF01" / "AF01AFS_copy.JPG")
    with pytest.warns(UserWarning, match="name does not match"):
        data = _load(kdef, tmp_path)
    assert len(data) == 5 and sum(data.provenance["skipped"].values()) == 1
    _image(kdef / "AF01" / "AF01XXS.JPG")
    with pytest.raises(LabelError, match=r"AF01XXS\.JPG"):
        _load(kdef, tmp_path)


def test_layout_mismatch_missing_and_file_root(tmp_path: Path) -> None:
    root = tmp_path / "wrong"
    _image(root / "person1" / "a.jpg")
    (root / "info.txt").write_text("x")
    with pytest.raises(DatasetError, match=r"KDEF/AF01/AF01ANS\.JPG.*found: info\.txt, person1/"):
        _load(root, tmp_path)
    with pytest.raises(DatasetError, match="not found"):
        _load(tmp_path / "nope", tmp_path)
    with pytest.raises(DatasetError, match="is a file"):
        _load(root / "info.txt", tmp_path)


@pytest.mark.filterwarnings("ignore:skipping")
def test_corrupt_and_truncated_images(kdef: Path, tmp_path: Path) -> None:
    (kdef / "AM05" / "AM05HAS.JPG").write_bytes(b"\xff\xd8\xff broken")
    with pytest.raises(DatasetError, match=r"AM05HAS\.JPG"):
        _load(kdef, tmp_path)
    cut = _image(kdef / "BF01" / "BF01NES.JPG", size=(64, 64))
    cut.write_bytes(cut.read_bytes()[:300])
    with pytest.warns(UserWarning, match="unreadable"):
        data = _load(kdef, tmp_path, skip_corrupt=True)
    assert len(data) == 5 and data.provenance["skipped"] == {"unreadable image": 2}
