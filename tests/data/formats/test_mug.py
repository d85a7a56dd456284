"""MUG loader on tiny fixtures: subjects3/<subject>/<emotion>/<take>/img_NNNN.jpg with apex selection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from fixtures import crop_of
from PIL import Image

from fer_avalanche.data.formats.mug import apex_window
from fer_avalanche.data.imageio import opencv_available
from fer_avalanche.data.registry import load_dataset
from fer_avalanche.errors import ConfigError, DatasetError, LabelError


def _image(path: Path, value: int | None = None, seed: int = 0, size: tuple[int, int] = (32, 40)) -> Path:
    """A noise image; with ``value`` its mean is about ``value`` (to identify frames after loading)."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    base = rng.integers(0, 256, (size[1], size[0]), dtype=np.uint8)
    if value is not None:
        base = np.clip(value + rng.integers(-3, 4, base.shape), 0, 255).astype(np.uint8)
    Image.fromarray(base, "L").save(path)
    return path


@pytest.fixture
def mug(tmp_path: Path) -> Path:
    subjects = tmp_path / "MUG" / "subjects3"
    # subject 001: anger take with 7 frames (values 10..70) and a happiness take of 2 frames
    for i in range(7):
        _image(subjects / "001" / "anger" / "take000" / f"img_{i:04d}.jpg", value=10 * (i + 1))
    for i in range(2):
        _image(subjects / "001" / "happiness" / "take001" / f"img_{i:04d}.jpg", seed=i)
    # subject 002: no take level
    for i in range(4):
        _image(subjects / "002" / "Surprise" / f"img_{i:04d}.jpg", seed=10 + i)
    _image(subjects / "002" / "neutral" / "take000" / "img_0000.jpg", seed=20)
    return tmp_path / "MUG"


def _load(root: Path, tmp_path: Path, **kw):
    return load_dataset("mug", root, cache_dir=tmp_path / "cache", **kw)


def _names(data) -> list[str]:
    return [data.label_space.names[i] for i in data.labels.tolist()]


def test_apex_window_rule() -> None:
    assert apex_window(7, 3) == slice(2, 5)  # middle index 3
    assert apex_window(10, 3) == slice(3, 6)  # middle index 4
    assert apex_window(10, 1) == slice(4, 5)
    assert apex_window(2, 3) == slice(0, 2) and apex_window(5, None) == slice(0, 5)


def test_labels_subjects_and_apex_frames(mug: Path, tmp_path: Path) -> None:
    data = _load(mug, tmp_path, face_crop="none")
    assert _names(data) == ["angry"] * 3 + ["happy"] * 2 + ["neutral"] + ["surprise"] * 3
    assert tuple(data.images.shape) == (9, 1, 48, 48) and data.images.dtype == torch.uint8
    means = data.images[:3].float().mean(dim=(1, 2, 3)).round().tolist()
    assert means == pytest.approx([30, 40, 50], abs=3)  # frames 2, 3, 4 of 0..6
    assert data.subjects is not None and data.subjects.tolist() == [0] * 5 + [1] * 4
    assert data.provenance["takes"] == 4 and "apex" in data.provenance["frame_rule"]


def test_apex_frames_setting(mug: Path, tmp_path: Path) -> None:
    one = _load(mug, tmp_path, apex_frames=1, face_crop="none")
    assert len(one) == 4
    assert one.images[0].float().mean().item() == pytest.approx(40, abs=3)
    every = _load(mug, tmp_path, apex_frames=None)
    assert len(every) == 14
    with pytest.raises(ConfigError, match="apex_frames"):
        _load(mug, tmp_path, apex_frames=0)


def test_root_may_be_subjects3_itself(mug: Path, tmp_path: Path) -> None:
    assert len(_load(mug / "subjects3", tmp_path)) == len(_load(mug, tmp_path)) == 9


def test_center_crop_is_the_centred_square_of_three_quarters(mug: Path, tmp_path: Path) -> None:
    center = _load(mug, tmp_path, face_crop="center")
    # 32 wide, 40 high: side round(32 * 0.75) = 24 at x = (32 - 24) // 2, y = (40 - 24) // 2
    frame = mug / "subjects3" / "001" / "anger" / "take000" / "img_0002.jpg"  # first apex frame
    assert np.array_equal(center.images[0, 0].numpy(), crop_of(frame, rows=(8, 32), cols=(4, 28)))
    assert _load(mug, tmp_path).provenance["preprocessing"]["face_crop"] == (
        "detect" if opencv_available() else "center"
    )


def test_unknown_emotion_folder_is_named(mug: Path, tmp_path: Path) -> None:
    _image(mug / "subjects3" / "002" / "boredom" / "take000" / "img_0000.jpg")
    with pytest.raises(LabelError, match="boredom"):
        _load(mug, tmp_path)


def test_layout_mismatch_lists_what_was_found(tmp_path: Path) -> None:
    root = tmp_path / "wrong"
    _image(root / "001" / "img_0000.jpg")
    (root / "readme.txt").write_text("x")
    with pytest.raises(DatasetError, match=r"subjects3/<subject>/<emotion>.*found: 001/, readme\.txt"):
        _load(root, tmp_path)
    with pytest.raises(DatasetError, match="not found"):
        _load(tmp_path / "nope", tmp_path)
    with pytest.raises(DatasetError, match="is a file"):
        _load(root / "readme.txt", tmp_path)
    empty = tmp_path / "empty" / "subjects3" / "001" / "anger"
    empty.mkdir(parents=True)
    with pytest.raises(DatasetError, match="no MUG frames"):
        _load(tmp_path / "empty", tmp_path)


@pytest.mark.filterwarnings("ignore:skipping")
def test_corrupt_and_truncated_frames(mug: Path, tmp_path: Path) -> None:
    take = mug / "subjects3" / "002" / "neutral" / "take000"
    (take / "img_0001.jpg").write_bytes(b"garbage")
    with pytest.raises(DatasetError, match=r"img_0001\.jpg"):
        _load(mug, tmp_path, apex_frames=None)
    cut = _image(take / "img_0002.jpg", size=(64, 64))
    cut.write_bytes(cut.read_bytes()[:300])
    with pytest.warns(UserWarning, match="unreadable"):
        data = _load(mug, tmp_path, apex_frames=None, skip_corrupt=True)
    assert len(data) == 14 and data.provenance["skipped"] == {"unreadable image": 2}
