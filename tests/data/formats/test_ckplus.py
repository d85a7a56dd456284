"""CK+ loader on tiny fixtures: the official release (images + Emotion) and CK+48 class folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from fixtures import crop_of, write_ckplus_official
from PIL import Image

from fer_avalanche.data.imageio import opencv_available
from fer_avalanche.data.registry import load_dataset
from fer_avalanche.errors import ConfigError, DatasetError, LabelError
from fer_avalanche.labels import BASIC7, BASIC8


def _image(path: Path, seed: int = 0, size: tuple[int, int] = (32, 40)) -> Path:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0]), dtype=np.uint8), "L").save(path)
    return path


# (subject, sequence, number of frames, emotion code or None for an unlabelled sequence)
SEQUENCES = [
    ("S005", "001", 5, 3.0),  # disgust
    ("S010", "002", 4, 5.0),  # happy
    ("S010", "004", 2, 2.0),  # contempt, shorter than peak_frames
    ("S011", "001", 3, None),  # unlabelled
]


def _official(root: Path) -> Path:
    for seed, (subject, seq, frames, code) in enumerate(SEQUENCES):
        for f in range(1, frames + 1):
            _image(
                root / "cohn-kanade-images" / subject / seq / f"{subject}_{seq}_{f:08d}.png", seed * 10 + f
            )
        emotion_dir = root / "Emotion" / subject / seq
        emotion_dir.mkdir(parents=True)
        if code is not None:
            (emotion_dir / f"{subject}_{seq}_{frames:08d}_emotion.txt").write_text(f"   {code:.7e}\n")
    return root


@pytest.fixture
def official(tmp_path: Path) -> Path:
    return _official(tmp_path / "CK+")


@pytest.fixture
def ck48(tmp_path: Path) -> Path:
    root = tmp_path / "ck48" / "CK+48"
    for i, (folder, subject) in enumerate(
        [
            ("anger", "S010"),
            ("contempt", "S011"),
            ("happiness", "S010"),
            ("sadness", "S014"),
            ("neutral", "S014"),
        ]
    ):
        _image(root / folder / f"{subject}_00{i}_00000010.png", seed=i, size=(48, 48))
    return root.parent


def _load(root: Path, tmp_path: Path, **kw):
    return load_dataset("ckplus", root, cache_dir=tmp_path / "cache", **kw)


def _names(data) -> list[str]:
    return [data.label_space.names[i] for i in data.labels.tolist()]


def test_official_last_frames_carry_the_label_and_contempt_is_dropped(official: Path, tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="contempt"):
        data = _load(official, tmp_path)
    assert _names(data) == ["disgust"] * 3 + ["happy"] * 3
    assert tuple(data.images.shape) == (6, 1, 48, 48) and data.images.dtype == torch.uint8
    assert data.provenance["skipped"] == {"outside basic7 (contempt)": 2}
    assert data.provenance["labelled_sequences"] == 3 and data.provenance["sequences_found"] == 4
    assert data.subjects is not None and data.subjects.tolist() == [0, 0, 0, 1, 1, 1]
    assert data.counts()["train"] == 6


def test_official_in_basic8_keeps_contempt(official: Path, tmp_path: Path) -> None:
    data = _load(official, tmp_path, label_space="basic8", peak_frames=1)
    assert _names(data) == ["disgust", "happy", "contempt"]
    assert data.labels.tolist() == [BASIC8.index("disgust"), BASIC8.index("happy"), 7]


def test_first_frame_neutral_adds_the_onset_frame(official: Path, tmp_path: Path) -> None:
    data = _load(official, tmp_path, label_space="basic8", peak_frames=2, first_frame_neutral=True)
    assert _names(data) == [
        "disgust",
        "disgust",
        "neutral",
        "happy",
        "happy",
        "neutral",
        "contempt",
        "neutral",
    ]


@pytest.mark.filterwarnings("ignore:.*outside basic7")
def test_root_may_be_the_images_folder_or_a_parent(official: Path, tmp_path: Path) -> None:
    direct = _load(official / "cohn-kanade-images", tmp_path, peak_frames=1)
    parent = _load(official.parent, tmp_path, peak_frames=1)
    assert _names(direct) == _names(parent) == ["disgust", "happy"]


def test_ck48_class_folders(ck48: Path, tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="contempt"):
        data = _load(ck48, tmp_path)
    assert _names(data) == ["angry", "happy", "neutral", "sad"]
    assert data.subjects is not None and data.num_subjects == 2
    eight = _load(ck48 / "CK+48", tmp_path, label_space="basic8")
    assert sorted(_names(eight)) == ["angry", "contempt", "happy", "neutral", "sad"]
    assert eight.provenance["layout"].startswith("CK+48")


def test_center_crop_is_the_centred_square_of_three_quarters(official: Path, tmp_path: Path) -> None:
    center = _load(official, tmp_path, label_space="basic8", peak_frames=1, face_crop="center")
    # frames are 32 wide, 40 high: side round(32 * 0.75) = 24 at x = (32 - 24) // 2, y = (40 - 24) // 2
    frame = official / "cohn-kanade-images" / "S005" / "001" / "S005_001_00000005.png"
    assert np.array_equal(center.images[0, 0].numpy(), crop_of(frame, rows=(8, 32), cols=(4, 28)))
    whole = _load(official, tmp_path, label_space="basic8", peak_frames=1, face_crop="none")
    assert np.array_equal(whole.images[0, 0].numpy(), crop_of(frame, rows=(4, 36), cols=(0, 32)))


def test_official_frames_are_detected_by_default_ck48_kept_whole(
    official: Path, ck48: Path, tmp_path: Path
) -> None:
    data = _load(official, tmp_path, label_space="basic8")
    assert data.provenance["preprocessing"]["face_crop"] == ("detect" if opencv_available() else "center")
    assert _load(ck48, tmp_path, label_space="basic8").provenance["preprocessing"]["face_crop"] == "none"


def test_malformed_emotion_file_is_named(official: Path, tmp_path: Path) -> None:
    bad = official / "Emotion" / "S005" / "001" / "S005_001_00000005_emotion.txt"
    bad.write_text("happy\n")
    with pytest.raises(DatasetError, match=r"S005_001_00000005_emotion\.txt: malformed"):
        _load(official, tmp_path)
    bad.write_text("9.0000000e+00")
    with pytest.raises(LabelError, match=r"S005_001_00000005_emotion\.txt"):
        _load(official, tmp_path)


def test_labelled_sequence_without_frames(official: Path, tmp_path: Path) -> None:
    label = official / "Emotion" / "S099" / "001" / "S099_001_00000009_emotion.txt"
    label.parent.mkdir(parents=True)
    label.write_text("1.0000000e+00")
    with pytest.raises(DatasetError, match="S099"):
        _load(official, tmp_path)
    with pytest.warns(UserWarning, match="without frames"):
        data = _load(official, tmp_path, skip_corrupt=True)
    assert data.provenance["skipped"]["labelled sequence without frames"] == 1


def test_unknown_ck48_folder_and_layout_mismatch(ck48: Path, tmp_path: Path) -> None:
    (ck48 / "CK+48" / "bored").mkdir()
    with pytest.raises(LabelError, match="bored"):
        _load(ck48, tmp_path)
    other = tmp_path / "other"
    (other / "images").mkdir(parents=True)
    (other / "labels.txt").write_text("x")
    with pytest.raises(DatasetError, match=r"cohn-kanade-images.*CK\+48.*found: images/, labels\.txt"):
        _load(other, tmp_path)


def test_missing_root_file_root_and_bad_setting(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not found"):
        _load(tmp_path / "nope", tmp_path)
    (tmp_path / "f").write_text("x")
    with pytest.raises(DatasetError, match="is a file"):
        _load(tmp_path / "f", tmp_path)
    with pytest.raises(ConfigError, match="peak_frames"):
        _load(tmp_path, tmp_path, peak_frames=0)


@pytest.mark.filterwarnings("ignore:skipping")
def test_corrupt_and_truncated_frames(ck48: Path, tmp_path: Path) -> None:
    corrupt = ck48 / "CK+48" / "anger" / "S020_001_00000001.png"
    corrupt.write_bytes(b"\x89PNG broken")
    with pytest.raises(DatasetError, match=r"S020_001_00000001\.png"):
        _load(ck48, tmp_path, label_space="basic8")
    truncated = _image(ck48 / "CK+48" / "fear" / "S021_001_00000001.png", size=(64, 64))
    truncated.write_bytes(truncated.read_bytes()[:150])
    with pytest.warns(UserWarning, match="unreadable"):
        data = _load(ck48, tmp_path, label_space="basic8", skip_corrupt=True)
    assert len(data) == 5 and data.provenance["skipped"] == {"unreadable image": 2}
    assert BASIC7.index("fear") not in data.labels.tolist()


def test_peak_frames_are_the_last_frames_and_the_onset_is_the_first(tmp_path: Path) -> None:
    # frame f of every sequence has pixel value 40 * f: onset (40) and peaks (120, 160, 200) differ
    root = write_ckplus_official(tmp_path / "CK+", subjects=2, sequences=2, frames=5)
    data = _load(root, tmp_path, face_crop="none")
    means = data.images.float().mean(dim=(1, 2, 3)).round().tolist()
    assert means == pytest.approx([120, 160, 200] * 4, abs=2)
    assert data.groups.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]  # one group per sequence
    last = _load(root, tmp_path, face_crop="none", peak_frames=1)
    assert last.images.float().mean(dim=(1, 2, 3)).tolist() == pytest.approx([200] * 4, abs=2)
    onset = _load(root, tmp_path, face_crop="none", peak_frames=2, first_frame_neutral=True)
    assert onset.images.float().mean(dim=(1, 2, 3)).tolist() == pytest.approx([160, 200, 40] * 4, abs=2)
    assert (
        _names(onset)[2::3] == ["neutral"] * 4
        and onset.groups.tolist() == [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3
    )
