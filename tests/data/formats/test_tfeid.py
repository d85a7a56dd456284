"""TFEID loader on tiny fixtures: class folders (any case) and a flat folder with name_regex."""

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


def _image(path: Path, seed: int = 0, size: tuple[int, int] = (32, 40)) -> Path:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), "RGB").save(path)
    return path


FOLDERS = ["Anger", "contempt", "DISGUST", "fear", "happiness", "neutral", "sadness", "Surprise"]


@pytest.fixture
def folders(tmp_path: Path) -> Path:
    root = tmp_path / "tfeid"
    for i, folder in enumerate(FOLDERS):
        _image(root / folder / f"f{i:02d}_{folder.lower()}.jpg", seed=i)
    return root


@pytest.fixture
def flat(tmp_path: Path) -> Path:
    root = tmp_path / "flat"
    for i, (subject, code) in enumerate(
        [("m01", "ha"), ("m01", "sa"), ("f02", "ha"), ("f02", "xx"), ("f02", "co")]
    ):
        _image(root / f"{subject}_{code}_{i}.jpg", seed=i)
    _image(root / "notes.png")
    return root


def _load(root: Path, tmp_path: Path, **kw):
    return load_dataset("tfeid", root, cache_dir=tmp_path / "cache", **kw)


def _names(data) -> list[str]:
    return [data.label_space.names[i] for i in data.labels.tolist()]


def test_class_folders_in_any_case(folders: Path, tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="contempt"):
        data = _load(folders, tmp_path)
    assert _names(data) == ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
    assert data.provenance["skipped"] == {"outside basic7 (contempt)": 1}
    assert tuple(data.images.shape) == (7, 1, 48, 48) and data.images.dtype == torch.uint8
    assert data.subjects is None and data.counts()["train"] == 7
    eight = _load(folders, tmp_path, label_space="basic8")
    assert "contempt" in _names(eight) and len(eight) == 8


def test_class_folders_with_subject_regex(folders: Path, tmp_path: Path) -> None:
    data = _load(folders, tmp_path, label_space="basic8", name_regex=r"^(?P<subject>f\d)")
    assert data.num_subjects == 1  # f0 for every file
    assert data.provenance["subject_rule"].startswith("group subject")


def test_unknown_folders_list_what_was_found_and_label_map_fixes_it(folders: Path, tmp_path: Path) -> None:
    _image(folders / "joy_x" / "a.jpg")
    with pytest.raises(
        DatasetError,
        match=r"joy_x.*found folders: Anger, contempt, DISGUST, fear, happiness, joy_x.*label_map",
    ):
        _load(folders, tmp_path)
    data = _load(folders, tmp_path, label_space="basic8", label_map={"JOY_X": "happy"})
    assert _names(data).count("happy") == 2
    data = _load(folders, tmp_path, label_space="basic8", label_map={"joy_x": None})
    assert len(data) == 8 and data.provenance["skipped"] == {}
    assert data.provenance["excluded_by_label_map"] == {"joy_x": 1}


def test_flat_folder_with_name_regex(flat: Path, tmp_path: Path) -> None:
    (flat / "f02_xx_3.jpg").unlink()
    with pytest.warns(UserWarning, match="name_regex"):
        data = _load(
            flat, tmp_path, label_space="basic8", name_regex=r"^(?P<subject>[mf]\d+)_(?P<expr>[a-z]+)_"
        )
    assert _names(data) == ["contempt", "happy", "happy", "sad"]  # files sorted by name
    assert data.subjects is not None and data.subjects.tolist() == [0, 0, 1, 1]  # f02, m01
    assert data.provenance["skipped"] == {"name does not match name_regex": 1}


@pytest.mark.filterwarnings("ignore:.*name_regex")
def test_flat_folder_unknown_code_and_label_map(flat: Path, tmp_path: Path) -> None:
    regex = r"^(?P<subject>[mf]\d+)_(?P<expr>[a-z]+)_"
    with pytest.raises(LabelError, match=r"f02_xx_3\.jpg.*'xx'"):
        _load(flat, tmp_path, name_regex=regex)
    data = _load(flat, tmp_path, label_space="basic8", name_regex=regex, label_map={"xx": "fear"})
    assert "fear" in _names(data) and len(data) == 5


def test_flat_folder_needs_name_regex(flat: Path, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"name_regex.*found: f02_co_4\.jpg"):
        _load(flat, tmp_path)
    with pytest.raises(DatasetError, match="no file name matches"):
        _load(flat, tmp_path, name_regex=r"^zz(?P<expr>\w+)")
    with pytest.raises(ConfigError, match="expr"):
        _load(flat, tmp_path, name_regex=r"^(?P<subject>\w+)")
    with pytest.raises(ConfigError, match="not a valid"):
        _load(flat, tmp_path, name_regex=r"(?P<expr>")
    with pytest.raises(ConfigError, match="label_map"):
        _load(flat, tmp_path, name_regex=r"_(?P<expr>[a-z]+)_", label_map={"ha": "giggly"})


def test_center_crop_is_the_centred_square_of_three_quarters(folders: Path, tmp_path: Path) -> None:
    center = _load(folders, tmp_path, label_space="basic8", face_crop="center")
    # 32 wide, 40 high: side round(32 * 0.75) = 24 at x = (32 - 24) // 2, y = (40 - 24) // 2
    first = folders / "Anger" / "f00_anger.jpg"
    assert np.array_equal(center.images[0, 0].numpy(), crop_of(first, rows=(8, 32), cols=(4, 28)))
    assert _load(folders, tmp_path, label_space="basic8").provenance["preprocessing"]["face_crop"] == (
        "detect" if opencv_available() else "center"
    )


def test_missing_file_and_empty_roots(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not found"):
        _load(tmp_path / "nope", tmp_path)
    (tmp_path / "f.jpg").write_text("x")
    with pytest.raises(DatasetError, match="is a file"):
        _load(tmp_path / "f.jpg", tmp_path)
    empty = tmp_path / "empty"
    (empty / "docs").mkdir(parents=True)
    with pytest.raises(DatasetError, match=r"no TFEID images found.*anger.*found: docs/"):
        _load(empty, tmp_path)


@pytest.mark.filterwarnings("ignore:skipping")
def test_corrupt_and_truncated_images(folders: Path, tmp_path: Path) -> None:
    (folders / "fear" / "bad.jpg").write_bytes(b"\xff\xd8 not really")
    with pytest.raises(DatasetError, match=r"bad\.jpg"):
        _load(folders, tmp_path, label_space="basic8")
    truncated = _image(folders / "fear" / "cut.jpg", size=(64, 64))
    truncated.write_bytes(truncated.read_bytes()[:300])
    with pytest.warns(UserWarning, match="unreadable"):
        data = _load(folders, tmp_path, label_space="basic8", skip_corrupt=True)
    assert len(data) == 8 and data.provenance["skipped"] == {"unreadable image": 2}
