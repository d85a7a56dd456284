"""check_dataset / format_report: the schema behind ``fer-avalanche data check``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "formats"))
from fixtures import (  # noqa: E402
    FORMAT_FIXTURES,
    fer2013_rows,
    write_corrupt_image,
    write_fer2013_csv,
    write_format_fixture,
    write_image,
)

from fer_avalanche.cli import main  # noqa: E402
from fer_avalanche.data.check import check_dataset, format_report  # noqa: E402
from fer_avalanche.errors import ConfigError, DatasetError  # noqa: E402

KEYS = {
    "dataset": str,
    "format": str,
    "root": str,
    "label_space": str,
    "total": int,
    "per_class": dict,
    "per_split": dict,
    "per_split_class": dict,
    "skipped": dict,
    "image_size": list,
    "split": str,
    "cache": str,
    "warnings": list,
    "seconds": float,
}


def test_schema_folder(tmp_path):
    root = tmp_path / "lab"
    write_image(root / "train" / "happy" / "S1_a.png", size=(60, 40))
    write_image(root / "train" / "happy" / "S2_e.png", size=(60, 40), seed=3)
    write_image(root / "train" / "contempt" / "S2_b.png", size=(60, 40), seed=1)
    write_image(root / "test" / "sad" / "S3_c.png", size=(30, 30), seed=2)
    write_corrupt_image(root / "test" / "sad" / "S4_d.png")
    d = check_dataset("folder", root, subject_regex=r"^(S\d)_", skip_corrupt=True, cache_dir=tmp_path / "c")
    for key, kind in KEYS.items():
        assert isinstance(d[key], kind), key
    assert d["total"] == 3 and d["per_split"] == {"train": 2, "val": 0, "test": 1}
    assert d["per_class"]["happy"] == 2 and d["per_split_class"]["test"]["sad"] == 1
    assert d["subjects"] == 3
    assert d["skipped"] == {"outside basic7 (contempt)": 1, "unreadable image": 1}
    assert d["source_image_size"] == [40, 60] and d["image_size"] == [48, 48]
    assert d["split"] == "official" and d["cache"] == "miss"
    assert any("skipped" in w for w in d["warnings"])
    json.dumps(d)  # JSON-ready
    assert (
        check_dataset("folder", root, subject_regex=r"^(S\d)_", skip_corrupt=True, cache_dir=tmp_path / "c")[
            "cache"
        ]
        == "hit"
    )
    text = format_report(d)
    for fragment in (
        "dataset   lab (format folder)",
        "subjects  3",
        "40x60 (most common; also 30x30)",
        "unreadable image",
        "happy",
        "total",
    ):
        assert fragment in text, fragment
    last = text.splitlines()
    assert any(line.split() == ["total", "2", "1", "3"] for line in last)


def test_schema_fer2013(tmp_path):
    path = write_fer2013_csv(tmp_path / "fer2013.csv", fer2013_rows())
    d = check_dataset("fer2013", path, cache_dir=tmp_path / "c")
    assert d["total"] == 28 and d["per_split"] == {"train": 14, "val": 7, "test": 7}
    assert d["subjects"] is None and d["source_image_size"] == [48, 48] and d["skipped"] == {}
    assert "subjects  unknown" in format_report(d)


def test_errors_pass_through(tmp_path):
    with pytest.raises(ConfigError, match="unknown dataset format"):
        check_dataset("fer2031", tmp_path)
    with pytest.raises(DatasetError, match=r"missing: folder not found \(expected class folders"):
        check_dataset("folder", tmp_path / "missing")


#: every key of ``data check --json`` and its type(s)
DOCUMENTED = {
    **KEYS,
    "subjects": (int, type(None)),
    "groups": (int, type(None)),
    "per_split_groups": (dict, type(None)),
    "face_crop": str,
    "face_detection": (dict, type(None)),
    "source_image_size": (list, type(None)),
    "source_image_sizes": dict,
    "layout": (str, type(None)),
}
#: groups each format fixture has (sequences / takes), None where the format has none
GROUPS = {"ckplus": 2, "ck48": 2, "mug": 2}


@pytest.mark.parametrize("key", list(FORMAT_FIXTURES))
def test_data_check_json_is_one_object_with_groups_and_detections(tmp_path, capsys, key):
    name, root = write_format_fixture(key, tmp_path / key)
    argv = ["data", "check", name, str(root), "--face-crop", "detect", "--cache-dir", str(tmp_path / "c")]
    assert main([*argv, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)  # the whole output is one JSON object
    assert set(d) == set(DOCUMENTED)
    for field, kind in DOCUMENTED.items():
        assert isinstance(d[field], kind), field
    assert d["groups"] == GROUPS.get(key)
    assert (d["per_split_groups"] is None) == (GROUPS.get(key) is None)
    assert d["face_crop"] == "detect"
    assert d["face_detection"] == {"detected": 0, "fallback": d["total"]}  # random pixels hold no face
    assert main(argv) == 0
    text = capsys.readouterr().out
    groups = GROUPS.get(key)
    assert f"groups    {groups}" in text if groups else "groups    unknown (every image its own)" in text
    assert f"faces     detect: 0 of {d['total']} detected, {d['total']} fallbacks (centre-cropped)" in text
    table = text.split("\n\n", 1)[1].splitlines()  # the class x split table, then groups per split
    group_rows = [line.split() for line in table if line.startswith("groups")]
    assert group_rows == ([["groups", *map(str, _per_split(d)), str(groups)]] if groups else [])


def _per_split(d: dict) -> list[int]:
    return [d["per_split_groups"][s] for s in ("train", "val", "test") if d["per_split"][s]]


def test_data_check_without_detection_reports_null(tmp_path, capsys):
    name, root = write_format_fixture("mug", tmp_path / "mug")
    assert (
        main(
            [
                "data",
                "check",
                name,
                str(root),
                "--face-crop",
                "center",
                "--json",
                "--cache-dir",
                str(tmp_path),
            ]
        )
        == 0
    )
    d = json.loads(capsys.readouterr().out)
    assert d["face_detection"] is None and d["face_crop"] == "center"
    assert d["groups"] == 2 and d["per_split_groups"] == {"train": 2, "val": 0, "test": 0}
    assert "faces     center (no detection)" in format_report(d)


def test_data_check_skip_fallback_counts_the_skipped(tmp_path, capsys):
    name, root = write_format_fixture("jaffe", tmp_path / "jaffe")
    argv = ["data", "check", name, str(root), "--face-crop", "detect", "--detect-fallback", "skip", "--json"]
    assert main([*argv, "--cache-dir", str(tmp_path)]) == 2  # no image has a face: a clear error
    assert "no face detected in any" in capsys.readouterr().err
