"""JAFFE's file-name rules and provenance, each one on a tiny folder in the real layout.

The rules a user meets: lower-case names, a root under ``~``, hidden files (``.DS_Store``, macOS
``._*`` copies) and sub-folders that are neither images nor "skipped", which folder holds the images,
and the words the provenance (``datasets.json``, ``data check``) records.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures import write_image

from fer_avalanche.data.registry import load_dataset
from fer_avalanche.errors import DatasetError, LabelError


def _load(root: Path | str, tmp_path: Path, **kw):
    return load_dataset("jaffe", root, cache_dir=tmp_path / "cache", face_crop="none", **kw)


def _names(data) -> list[str]:
    return [data.label_space.names[i] for i in data.labels.tolist()]


def test_lower_case_names_are_read_and_initials_are_one_subject_in_any_case(tmp_path: Path) -> None:
    root = tmp_path / "jaffe"
    write_image(root / "ka.ha1.1.tiff", size=(16, 16))
    write_image(root / "KA.SU2.2.TIF", size=(16, 16), seed=1)
    write_image(root / "Ym.fe3.3.tiff", size=(16, 16), seed=2)
    data = _load(root, tmp_path)
    assert _names(data) == ["surprise", "fear", "happy"]  # sorted by file name: KA.SU, Ym.fe, ka.ha
    assert data.subjects.tolist() == [0, 1, 0] and data.num_subjects == 2  # KA = ka


def test_a_root_under_the_home_folder_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    write_image(tmp_path / "jaffe" / "KA.HA1.1.tiff", size=(16, 16))
    data = _load("~/jaffe", tmp_path)
    assert _names(data) == ["happy"]


def test_hidden_files_and_sub_folders_are_not_counted_as_skipped(tmp_path: Path) -> None:
    root = tmp_path / "jaffe"
    write_image(root / "KA.HA1.1.tiff", size=(16, 16))
    (root / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (root / "._KA.HA1.1.tiff").write_bytes(b"\0\5\26\7")  # a macOS resource fork on a shared drive
    write_image(root / "thumbs" / "KA.AN1.2.tiff", size=(16, 16))  # a sub-folder is not one of the images
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "skipped" warning
        data = _load(root, tmp_path)
    assert _names(data) == ["happy"] and data.provenance["skipped"] == {}


def test_other_names_are_each_counted_once(tmp_path: Path) -> None:
    root = tmp_path / "jaffe"
    write_image(root / "KA.HA1.1.tiff", size=(16, 16))
    for name in ("README.txt", "KA.HA1.1.png", "KA.HAPPY.3.tiff"):
        (root / name).write_bytes(b"x")
    with pytest.warns(UserWarning, match=r"jaffe: skipped 3 name does not match SS\.EEn\.NNN\.tiff"):
        data = _load(root, tmp_path)
    assert data.provenance["skipped"] == {"name does not match SS.EEn.NNN.tiff": 3}


def test_the_release_sub_folder_is_used_and_a_hidden_copy_beside_it_ignored(tmp_path: Path) -> None:
    root = tmp_path / "download"
    write_image(root / "jaffedbase" / "NA.HA1.202.tiff", size=(16, 16))
    write_image(root / ".trash" / "NA.SA1.203.tiff", size=(16, 16))
    write_image(root / ".trash" / "NA.SU1.204.tiff", size=(16, 16))
    (root / "empty").mkdir()
    data = _load(root, tmp_path)
    assert _names(data) == ["happy"]
    assert data.provenance["layout"] == "flat folder jaffedbase/ of SS.EEn.NNN.tiff"


def test_two_sub_folders_with_images_are_refused_naming_what_was_found(tmp_path: Path) -> None:
    root = tmp_path / "download"
    write_image(root / "a" / "NA.HA1.202.tiff", size=(16, 16))
    write_image(root / "b" / "NA.SA1.203.tiff", size=(16, 16))
    with pytest.raises(
        DatasetError,
        match=r"download: no JAFFE images found \(expected a flat folder of SS\.EEn\.NNN\.tiff files such as "
        r"KA\.AN1\.39\.tiff\); found: a/, b/$",
    ):
        _load(root, tmp_path)


def test_a_missing_or_file_root_says_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(
        DatasetError, match=r"nope: folder not found \(expected JAFFE's SS\.EEn\.NNN\.tiff images\)"
    ):
        _load(tmp_path / "nope", tmp_path)


def test_an_unknown_code_names_the_file_the_code_and_the_known_codes(tmp_path: Path) -> None:
    root = tmp_path / "jaffe"
    write_image(root / "KA.HA1.1.tiff", size=(16, 16))
    write_image(root / "KA.xx1.2.tiff", size=(16, 16))
    with pytest.raises(
        LabelError,
        match=r"KA\.xx1\.2\.tiff: unknown JAFFE expression code 'xx' "
        r"\(expected one of AN, DI, FE, HA, NE, SA, SU\)$",
    ):
        _load(root, tmp_path)


def test_the_provenance_states_the_layout_and_the_rules(tmp_path: Path) -> None:
    root = tmp_path / "jaffe"
    write_image(root / "KA.HA1.1.tiff", size=(16, 16))
    prov = _load(root, tmp_path).provenance
    assert prov["format"] == "jaffe" and prov["root"] == str(root)
    assert prov["layout"] == "flat folder jaffe/ of SS.EEn.NNN.tiff"
    assert prov["label_rule"] == (
        "expression from EE in SS.EEn.NNN.tiff (AN angry, DI disgust, FE fear, HA happy, NE neutral, "
        "SA sad, SU surprise)"
    )
    assert prov["subject_rule"] == "SS (initials) in the file name"
