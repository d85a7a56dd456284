"""CK+'s layout rules and provenance, each one on a tiny tree in the real layout.

What a user meets: folder names in any case (``emotion/``, ``Cohn-Kanade-Images/``, ``ANGER/``),
macOS ``._*`` copies beside the label files, a sequence of one frame with ``first_frame_neutral``,
CK+48 sequences kept as groups, bad ``peak_frames``, and the words of the provenance.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures import frame_image, write_image

from fer_avalanche.data.registry import load_dataset
from fer_avalanche.errors import ConfigError, DatasetError, LabelError


def _load(root: Path | str, tmp_path: Path, **kw):
    kw.setdefault("face_crop", "none")
    return load_dataset("ckplus", root, cache_dir=tmp_path / "cache", label_space="basic8", **kw)


def _names(data) -> list[str]:
    return [data.label_space.names[i] for i in data.labels.tolist()]


def _sequence(
    root: Path,
    subject: str,
    seq: str,
    frames: int,
    code: str | None,
    *,
    images="cohn-kanade-images",
    emotion="Emotion",
) -> None:
    """Frames of pixel value 40 * f (f = 1..frames) and, unless ``code`` is None, the emotion file."""
    for f in range(1, frames + 1):
        frame_image(root / images / subject / seq / f"{subject}_{seq}_{f:08d}.png", 40 * f, (16, 16), seed=f)
    folder = root / emotion / subject / seq
    folder.mkdir(parents=True, exist_ok=True)
    if code is not None:
        (folder / f"{subject}_{seq}_{frames:08d}_emotion.txt").write_text(code)


def _means(data) -> list[int]:
    return [round(v) for v in data.images.float().mean(dim=(1, 2, 3)).tolist()]


def test_folder_names_in_any_case_are_found(tmp_path: Path) -> None:
    root = tmp_path / "ck"
    _sequence(root, "S005", "001", 3, "5.0000000e+00", images="Cohn-Kanade-Images", emotion="emotion")
    (root / "EMOTION").parent.mkdir(exist_ok=True)
    direct = _load(root / "Cohn-Kanade-Images", tmp_path, peak_frames=1)  # the images folder, beside emotion/
    parent = _load(root, tmp_path, peak_frames=1)
    assert _names(direct) == _names(parent) == ["happy"]


def test_an_emotion_file_beside_the_folders_is_not_taken_for_the_folder(tmp_path: Path) -> None:
    root = tmp_path / "ck"
    (root / "A").mkdir(parents=True)
    (root / "A" / "Emotion").write_text("not a folder")  # a file named like the folder, sorted first
    _sequence(root / "A", "S005", "001", 2, "1", emotion="emotion")
    assert _names(_load(root / "A", tmp_path, peak_frames=1)) == ["angry"]


def test_mac_resource_forks_beside_the_label_files_are_ignored(tmp_path: Path) -> None:
    root = tmp_path / "ck"
    _sequence(root, "S005", "001", 3, "3.0000000e+00")
    (root / "Emotion" / "S005" / "001" / "._S005_001_00000003_emotion.txt").write_bytes(b"\0\5\26\7\0\2")
    data = _load(root, tmp_path, peak_frames=2)
    assert _names(data) == ["disgust", "disgust"] and data.provenance["labelled_sequences"] == 1


def test_two_emotion_files_in_one_sequence_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "ck"
    _sequence(root, "S005", "001", 3, "3.0000000e+00")
    (root / "Emotion" / "S005" / "001" / "S005_001_00000002_emotion.txt").write_text("1")
    with pytest.raises(DatasetError, match=r"001: 2 emotion files in one sequence \(expected one\)$"):
        _load(root, tmp_path)


def test_no_label_file_at_all_says_what_was_expected(tmp_path: Path) -> None:
    root = tmp_path / "ck"
    _sequence(root, "S005", "001", 3, None)
    with pytest.raises(
        DatasetError,
        match=r"Emotion: no Sxxx/yyy/\*_emotion\.txt label files found \(expected \(a\) .*found: S005/$",
    ):
        _load(root, tmp_path)


def test_a_sequence_of_one_frame_gives_its_label_and_its_onset(tmp_path: Path) -> None:
    root = tmp_path / "ck"
    _sequence(root, "S005", "001", 1, "7")
    data = _load(root, tmp_path, peak_frames=3, first_frame_neutral=True)
    assert _names(data) == ["surprise", "neutral"] and _means(data) == [40, 40]
    assert data.groups.tolist() == [0, 0]


def test_peak_frames_come_after_the_onset_with_first_frame_neutral(tmp_path: Path) -> None:
    root = tmp_path / "ck"
    _sequence(root, "S005", "001", 3, "1")
    data = _load(root, tmp_path, peak_frames=3, first_frame_neutral=True)  # 2 frames after the onset
    assert _names(data) == ["angry", "angry", "neutral"] and _means(data) == [80, 120, 40]
    plain = _load(root, tmp_path, peak_frames=3)
    assert _names(plain) == ["angry"] * 3 and _means(plain) == [40, 80, 120]


def test_a_code_that_is_not_a_whole_number_is_a_label_error(tmp_path: Path) -> None:
    root = tmp_path / "ck"
    _sequence(root, "S005", "001", 2, " 2.5000000e+00\n")
    with pytest.raises(
        LabelError, match=r"_emotion\.txt: unknown CK\+ emotion code '2\.5000000e\+00' \(expected 0\.\.7\)$"
    ):
        _load(root, tmp_path)


def test_a_malformed_emotion_file_quotes_its_start(tmp_path: Path) -> None:
    root = tmp_path / "ck"
    _sequence(root, "S005", "001", 2, "x" * 60)
    with pytest.raises(
        DatasetError,
        match=r"malformed CK\+ emotion file: expected one number such as 3\.0000000e\+00, got '"
        + "x" * 40
        + "'$",
    ):
        _load(root, tmp_path)


@pytest.mark.parametrize("bad", [0, -1, 2.5, "3", True])
def test_peak_frames_must_be_a_positive_integer(tmp_path: Path, bad) -> None:
    with pytest.raises(ConfigError, match=rf"peak_frames must be an integer >= 1, got {bad!r}"):
        _load(tmp_path, tmp_path, peak_frames=bad)


def test_a_missing_root_lists_both_layouts(tmp_path: Path) -> None:
    with pytest.raises(
        DatasetError,
        match=r"nope: folder not found \(expected CK\+ in one of the layouts \(a\) "
        r"cohn-kanade-images/Sxxx/yyy/\*\.png \+ Emotion/Sxxx/yyy/\*_emotion\.txt, or \(b\) CK\+48 class "
        r"folders <class>/Sxxx_yyy_zzzzzzzz\.png with classes anger contempt disgust fear happy happiness "
        r"sadness surprise neutral\)",
    ):
        _load(tmp_path / "nope", tmp_path)


def test_ck48_folders_in_any_case_and_sequences_as_groups(tmp_path: Path) -> None:
    root = tmp_path / "CK+48"
    for f in range(3):
        write_image(root / "ANGER" / f"S010_004_{f + 10:08d}.png", size=(48, 48), seed=f)
    write_image(root / "Happy" / "s010_005_00000020.png", size=(48, 48), seed=9)
    write_image(root / "Happy" / "S011_001_00000020.png", size=(48, 48), seed=8)
    write_image(root / "Happy" / "frame.png", size=(48, 48), seed=7)
    with pytest.warns(UserWarning, match=r"ckplus: skipped 1 name does not match Sxxx_yyy_zzzzzzzz\.png"):
        data = _load(root, tmp_path)
    assert _names(data) == ["angry"] * 3 + ["happy"] * 2
    # files sorted by name (S011_001 before s010_005); group ids in sorted order S010/004, S010/005, S011/001
    assert data.groups.tolist() == [0, 0, 0, 2, 1]
    assert data.subjects.tolist() == [0, 0, 0, 1, 0]  # s010 = S010
    assert data.provenance["skipped"] == {"name does not match Sxxx_yyy_zzzzzzzz.png": 1}


def test_an_unknown_ck48_folder_lists_the_known_ones(tmp_path: Path) -> None:
    root = tmp_path / "CK+48"
    write_image(root / "anger" / "S010_004_00000010.png", size=(48, 48))
    (root / "Bored").mkdir()
    with pytest.raises(
        LabelError,
        match=r"Bored: unknown CK\+48 class folder 'Bored' \(expected anger, contempt, disgust, fear, happy, "
        r"happiness, sadness, surprise, neutral\)$",
    ):
        _load(root, tmp_path)


def test_the_provenance_states_the_layout_and_the_rules(tmp_path: Path) -> None:
    root = tmp_path / "ck"
    _sequence(root, "S005", "001", 3, "1")
    _sequence(root, "S005", "002", 3, None)
    prov = _load(root, tmp_path, peak_frames=2).provenance
    assert prov["layout"] == "official (cohn-kanade-images + Emotion)"
    assert prov["label_rule"] == "last 2 frame(s) of each labelled sequence carry its Emotion code"
    assert prov["subject_rule"] == "Sxxx folder" and prov["group_rule"] == "sequence Sxxx/yyy"
    assert (prov["labelled_sequences"], prov["sequences_found"]) == (1, 2)
    onset = _load(root, tmp_path, peak_frames=1, first_frame_neutral=True).provenance
    assert onset["label_rule"] == (
        "last 1 frame(s) of each labelled sequence carry its Emotion code; first frame = neutral"
    )
    ck48 = tmp_path / "c" / "CK+48"
    write_image(ck48 / "anger" / "S010_004_00000010.png", size=(48, 48))
    prov = _load(ck48.parent, tmp_path).provenance
    assert prov["layout"] == "CK+48 class folders (CK+48/)"
    assert prov["label_rule"] == "class folder name"
    assert prov["subject_rule"] == "Sxxx prefix of the file name"
    assert prov["group_rule"] == "sequence Sxxx_yyy prefix of the file name"


def test_ck48_ignores_hidden_and_nested_folders_and_counts_every_bad_name(tmp_path: Path) -> None:
    root = tmp_path / "CK+48"
    write_image(root / "anger" / "S010_004_00000010.png", size=(48, 48))
    write_image(
        root / "anger" / "extra" / "S011_001_00000010.png", size=(48, 48)
    )  # not a class folder's file
    write_image(root / ".thumbnails" / "S012_001_00000010.png", size=(48, 48))
    write_image(root / "anger" / "one.png", size=(48, 48))
    write_image(root / "anger" / "two.png", size=(48, 48))
    with pytest.warns(UserWarning, match=r"skipped 2 name does not match"):
        data = _load(root, tmp_path)
    assert _names(data) == ["angry"] and data.provenance["skipped"] == {
        "name does not match Sxxx_yyy_zzzzzzzz.png": 2
    }


def test_ck48_class_folders_are_read_in_case_blind_order(tmp_path: Path) -> None:
    root = tmp_path / "CK+48"
    write_image(root / "Happy" / "S010_004_00000010.png", size=(48, 48))
    write_image(root / "anger" / "S010_005_00000010.png", size=(48, 48))  # "anger" < "Happy", ignoring case
    assert _names(_load(root, tmp_path)) == ["angry", "happy"]


def test_images_without_an_emotion_folder_are_not_the_official_layout(tmp_path: Path) -> None:
    root = tmp_path / "ck"
    frame_image(root / "cohn-kanade-images" / "S005" / "001" / "S005_001_00000001.png", 40, (16, 16))
    with pytest.raises(
        DatasetError, match=r"ck: not a CK\+ layout; expected \(a\) .*found: cohn-kanade-images/$"
    ):
        _load(root, tmp_path)


def test_frames_in_sub_folders_of_a_sequence_are_not_frames(tmp_path: Path) -> None:
    root = tmp_path / "ck"
    _sequence(root, "S005", "001", 2, "1")
    frame_image(
        root / "cohn-kanade-images" / "S005" / "001" / "thumbs" / "S005_001_00000009.png", 250, (16, 16)
    )
    data = _load(root, tmp_path, peak_frames=3)
    assert _means(data) == [40, 80]


def test_every_labelled_sequence_without_frames_is_skipped_and_counted(tmp_path: Path) -> None:
    root = tmp_path / "ck"
    for subject in ("S001", "S002"):  # sorted before the sequence with frames
        (root / "Emotion" / subject / "001").mkdir(parents=True)
        (root / "Emotion" / subject / "001" / f"{subject}_001_00000003_emotion.txt").write_text("1")
    _sequence(root, "S005", "001", 2, "5")
    with pytest.raises(
        DatasetError,
        match=r"S001_001_00000003_emotion\.txt: its sequence folder .*S001/001 is missing or holds no images "
        r"\(pass skip_corrupt=True to skip such sequences\)$",
    ):
        _load(root, tmp_path)
    with pytest.warns(UserWarning, match="skipped 2 labelled sequence without frames"):
        data = _load(root, tmp_path, skip_corrupt=True, peak_frames=1)
    assert _names(data) == ["happy"] and data.provenance["skipped"] == {"labelled sequence without frames": 2}
    assert data.provenance["labelled_sequences"] == 1


def test_the_onset_frame_belongs_to_the_sequences_subject(tmp_path: Path) -> None:
    root = tmp_path / "ck"
    _sequence(root, "S005", "001", 3, "1")
    _sequence(root, "S006", "001", 3, "5")
    data = _load(root, tmp_path, peak_frames=1, first_frame_neutral=True)
    assert _names(data) == ["angry", "neutral", "happy", "neutral"]
    assert data.subjects.tolist() == [0, 0, 1, 1] and data.groups.tolist() == [0, 0, 1, 1]


def test_an_emotion_file_that_is_not_text_is_malformed_not_a_crash(tmp_path: Path) -> None:
    root = tmp_path / "ck"
    _sequence(root, "S005", "001", 2, None)
    (root / "Emotion" / "S005" / "001" / "S005_001_00000002_emotion.txt").write_bytes(b"\xff\xfe\x003\x00")
    with pytest.raises(DatasetError, match=r"malformed CK\+ emotion file"):
        _load(root, tmp_path)


def test_without_opencv_the_official_frames_are_centre_cropped_with_a_warning_naming_ckplus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    root = tmp_path / "ck"
    _sequence(root, "S005", "001", 2, "1")
    monkeypatch.setitem(sys.modules, "cv2", None)
    with pytest.warns(UserWarning, match=r"^ckplus: OpenCV is not installed"):
        data = _load(root, tmp_path, face_crop=None, peak_frames=1)
    assert data.provenance["preprocessing"]["face_crop"] == "center"


def test_both_layouts_record_the_format_and_the_root(tmp_path: Path) -> None:
    root = tmp_path / "ck"
    _sequence(root, "S005", "001", 2, "1")
    ck48 = tmp_path / "c" / "CK+48"
    write_image(ck48 / "anger" / "S010_004_00000010.png", size=(48, 48))
    for where in (root, ck48.parent):
        data = _load(where, tmp_path)
        assert (data.name, data.provenance["format"], data.provenance["root"]) == (
            "ckplus",
            "ckplus",
            str(where),
        )
