"""FER2013 loader: every layout met in the wild, official split, malformed rows, cache, real data."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from fixtures import fer2013_rows, write_fer2013_csv, write_image, write_tar

from fer_avalanche import load_dataset
from fer_avalanche.data.formats.fer2013 import read_fer2013_table
from fer_avalanche.errors import DatasetError
from fer_avalanche.labels import BASIC7

REPO = Path(__file__).resolve().parents[3]
REAL_FER2013 = REPO.parent / "shared" / "data" / "fer2013" / "fer2013.csv.gz"


@pytest.fixture
def rows() -> list[tuple[int, np.ndarray, str]]:
    return fer2013_rows(seed=1)


def load(path: Path, tmp_path: Path, **kw):
    return load_dataset("fer2013", path, cache_dir=tmp_path / "cache", **kw)


def check_rows(data, rows) -> None:
    assert len(data) == len(rows)
    assert data.counts() == {"train": 14, "val": 7, "test": 7}
    assert data.labels.tolist() == [r[0] for r in rows]
    assert np.array_equal(data.images[:, 0].numpy(), np.stack([r[1] for r in rows]))
    assert data.provenance["split"] == "official"
    assert data.provenance["skipped"] == {}
    assert data.provenance["source_size"] == [48, 48]


def test_plain_csv(tmp_path, rows):
    path = write_fer2013_csv(tmp_path / "fer2013.csv", rows)
    data = load(path, tmp_path)
    check_rows(data, rows)
    assert data.name == "fer2013" and data.provenance["format"] == "fer2013"
    assert data.class_counts("val") == {name: 1 for name in BASIC7.names}
    assert data.provenance["cache"] == "miss"


@pytest.mark.parametrize(
    "relpath", ["fer2013.csv.gz", "fer2013/fer2013.csv", "fer2013.csv", "icml_face_data.csv"]
)
def test_folder_finds_the_csv(tmp_path, rows, relpath):
    root = tmp_path / "data"
    columns = (
        ("emotion", " Usage", " pixels") if relpath.startswith("icml") else ("emotion", "pixels", "Usage")
    )
    write_fer2013_csv(
        root / relpath, rows, columns=[c.strip() for c in columns], sep=", " if "icml" in relpath else ","
    )
    check_rows(load(root, tmp_path), rows)


def test_kaggle_tar_read_in_place(tmp_path, rows):
    csv = write_fer2013_csv(tmp_path / "src" / "fer2013.csv", rows).read_bytes()
    tar = write_tar(
        tmp_path / "kaggle" / "fer2013.tar.gz", {"fer2013/README": b"x", "fer2013/fer2013.csv": csv}
    )
    check_rows(load(tar, tmp_path), rows)
    check_rows(load(tar.parent, tmp_path), rows)  # found in a folder too
    assert sorted(p.name for p in tar.parent.iterdir()) == ["fer2013.tar.gz"]  # nothing extracted


def test_tar_without_csv_is_an_error(tmp_path):
    tar = write_tar(tmp_path / "fer2013.tar.gz", {"fer2013/README": b"x"})
    with pytest.raises(DatasetError, match="no fer2013/fer2013.csv inside"):
        load(tar, tmp_path)


def test_icml_variant_with_spaces_and_crlf(tmp_path, rows):
    path = write_fer2013_csv(
        tmp_path / "icml_face_data.csv",
        rows,
        columns=("emotion", "Usage", "pixels"),
        sep=", ",
        newline="\r\n",
    )
    check_rows(load(path, tmp_path), rows)


def test_quoted_and_double_spaced_pixels_parse(tmp_path, rows):
    weird = [
        (e, '"' + " ".join(str(v) for v in p.ravel()).replace(" ", "  ", 5) + '"', u) for e, p, u in rows
    ]
    path = write_fer2013_csv(tmp_path / "fer2013.csv", weird)
    check_rows(load(path, tmp_path), rows)


def test_kaggle_train_csv_is_all_train(tmp_path, rows):
    write_fer2013_csv(tmp_path / "k" / "train.csv", rows, columns=("emotion", "pixels"))
    (tmp_path / "k" / "test.csv").write_text("pixels\n" + "1 " * 2303 + "1\n")
    data = load(tmp_path / "k", tmp_path)
    assert data.counts() == {"train": 28, "val": 0, "test": 0}
    assert data.provenance["split"] == "none (all train)"
    assert "test.csv" in data.provenance["ignored"]


def test_unlabeled_test_csv_is_refused(tmp_path):
    test_csv = tmp_path / "k" / "test.csv"
    test_csv.parent.mkdir()
    test_csv.write_text("pixels\n" + "1 " * 2303 + "1\n")
    with pytest.raises(DatasetError, match="unlabeled test.csv"):
        load(test_csv, tmp_path)
    with pytest.raises(DatasetError, match="has no labels"):
        load(test_csv.parent, tmp_path)


def test_image_folders(tmp_path):
    root = tmp_path / "msambare"
    write_image(root / "train" / "happy" / "Training_1.jpg", size=(48, 48))
    write_image(root / "train" / "angry" / "Training_2.jpg", size=(48, 48), seed=1)
    write_image(root / "test" / "sad" / "PublicTest_3.jpg", size=(48, 48), seed=2)
    write_image(root / "test" / "surprise" / "PrivateTest_4.jpg", size=(48, 48), seed=3)
    write_image(root / "test" / "neutral" / "other_5.jpg", size=(48, 48), seed=4)
    data = load(root, tmp_path)
    assert data.counts() == {"train": 2, "val": 1, "test": 2}
    assert data.class_counts("val")["sad"] == 1
    assert data.class_counts("train") == {**{n: 0 for n in BASIC7.names}, "happy": 1, "angry": 1}
    assert data.provenance["source_size"] == [48, 48]
    assert "image folders" in data.provenance["layout"]


def test_image_folders_unknown_class(tmp_path):
    write_image(tmp_path / "r" / "train" / "happy" / "a.jpg")
    write_image(tmp_path / "r" / "train" / "bored" / "b.jpg")
    with pytest.raises(DatasetError, match="train/bored"):
        load(tmp_path / "r", tmp_path)


def test_missing_root_and_empty_folder(tmp_path):
    with pytest.raises(DatasetError, match="not found"):
        load(tmp_path / "nope", tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    with pytest.raises(DatasetError, match=r"no FER2013 data found.*notes\.txt"):
        load(tmp_path / "empty", tmp_path)


def test_not_a_fer2013_csv(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(DatasetError, match="no 'pixels' column"):
        load(path, tmp_path)


BAD_ROWS = [
    ("wrong pixel count", lambda p: " ".join(["1"] * 2000), "2000 pixel values, expected 2304"),
    ("non-integer pixel", lambda p: " ".join(["1"] * 2303 + ["x7"]), "'x7' is not an integer"),
    ("pixel value > 255", lambda p: " ".join(["1"] * 2303 + ["256"]), "256 is not in 0..255"),
    ("emotion not in 0..6", "emotion", "emotion '7' is not 0..6"),
    ("unknown Usage", "usage", "Usage 'Validation' is not"),
]


@pytest.mark.parametrize("reason, change, message", BAD_ROWS, ids=[b[0] for b in BAD_ROWS])
def test_malformed_row_names_file_and_line(tmp_path, rows, reason, change, message):
    bad = list(rows)
    e, p, u = bad[4]
    if change == "emotion":
        bad[4] = (7, p, u)
    elif change == "usage":
        bad[4] = (e, p, "Validation")
    else:
        bad[4] = (e, change(p), u)
    path = write_fer2013_csv(tmp_path / "fer2013.csv", bad)
    with pytest.raises(DatasetError, match=rf"fer2013\.csv: line 6: .*{message}.*skip_corrupt"):
        load(path, tmp_path)
    with pytest.warns(UserWarning) as record:
        data = load(path, tmp_path, skip_corrupt=True)
    assert any(
        "skipped 1 malformed rows, e.g." in str(w.message) and "line 6" in str(w.message) for w in record
    )
    assert len(data) == len(rows) - 1
    assert data.provenance["skipped"] == {reason: 1}


def test_wrong_field_count(tmp_path, rows):
    path = write_fer2013_csv(tmp_path / "fer2013.csv", rows)
    lines = path.read_text().splitlines()
    lines[2] = lines[2] + ",extra"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match="line 3: 4 fields, expected 3"):
        load(path, tmp_path)


def test_table_reports_lines_and_index(tmp_path, rows):
    path = write_fer2013_csv(tmp_path / "fer2013.csv.gz", rows)
    table = read_fer2013_table(path)
    assert table.lines[:3].tolist() == [2, 3, 4]
    assert table.index[-1] == len(rows) - 1 and table.rows == len(rows)


def test_resize_crop_and_basic8(tmp_path, rows):
    path = write_fer2013_csv(tmp_path / "fer2013.csv", rows)
    data = load(path, tmp_path, image_size=32, face_crop="center", label_space="basic8")
    assert data.image_size == (32, 32)
    assert data.label_space.name == "basic8" and data.labels.tolist() == [r[0] for r in rows]
    assert data.provenance["source_size"] == [48, 48]


def test_cache_hit_and_invalidation(tmp_path, rows):
    path = write_fer2013_csv(tmp_path / "fer2013.csv", rows)
    assert load(path, tmp_path).provenance["cache"] == "miss"
    again = load(path, tmp_path)
    assert again.provenance["cache"] == "hit"
    check_rows(again, rows)
    assert load(path, tmp_path, image_size=40).provenance["cache"] == "miss"
    changed = list(rows)
    changed[0] = (6, rows[0][1], rows[0][2])
    write_fer2013_csv(path, changed)
    data = load(path, tmp_path)
    assert data.provenance["cache"] == "miss" and data.labels[0] == 6
    assert not list((tmp_path / "cache").glob("*.tmp*"))


# ---------------------------------------------------------------- real data (shared, not committed)
# per Usage: angry disgust fear happy sad surprise neutral (from ../shared/data/fer2013/README.md)
REAL_COUNTS = {
    "train": [3967, 439, 4073, 7187, 4795, 3161, 4936],
    "val": [465, 56, 497, 891, 652, 414, 604],
    "test": [489, 55, 529, 876, 587, 413, 624],
}


@pytest.fixture(scope="module")
def real_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("real-cache")


@pytest.mark.realdata
def test_real_fer2013_counts_and_cache(real_cache):
    # load times are measured by benchmarks/bench_fer2013_load.py, not asserted here
    if not REAL_FER2013.is_file():
        pytest.skip(f"real FER2013 not found at {REAL_FER2013}")
    data = load_dataset("fer2013", REAL_FER2013, cache_dir=real_cache)
    for split, counts in REAL_COUNTS.items():
        assert list(data.class_counts(split).values()) == counts, split
    assert data.counts() == {"train": 28558, "val": 3579, "test": 3573}
    assert data.images.shape == (35710, 1, 48, 48) and data.provenance["skipped"] == {}
    with gzip.open(REAL_FER2013, "rt") as fh:
        fh.readline()
        first = fh.readline().split(",")
    assert data.labels[0] == int(first[0])
    assert data.images[0, 0].flatten().tolist() == [int(v) for v in first[1].split()]
    hot = load_dataset("fer2013", REAL_FER2013, cache_dir=real_cache)
    assert hot.provenance["cache"] == "hit"
    assert bool((hot.images == data.images).all()) and bool((hot.labels == data.labels).all())
