"""check_dataset / format_report: the schema behind ``fer-avalanche data check``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "formats"))
from fixtures import fer2013_rows, write_corrupt_image, write_fer2013_csv, write_image  # noqa: E402

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
    with pytest.raises(DatasetError):
        check_dataset("folder", tmp_path / "missing")
