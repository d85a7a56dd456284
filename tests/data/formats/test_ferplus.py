"""FER+ loader: CSV aligned by row order with fer2013.csv, per-split folders, label schemes."""

from __future__ import annotations

import numpy as np
import pytest
from fixtures import fer2013_rows, write_corrupt_image, write_csv, write_fer2013_csv, write_image

from fer_avalanche import load_dataset
from fer_avalanche.data.formats.ferplus import FERPLUS_COLUMNS, vote_distribution, vote_winners
from fer_avalanche.errors import ConfigError, DatasetError

HEADER = ["Usage", "Image name", *FERPLUS_COLUMNS]
#            neu hap sur sad ang dis fea con unk NF
VOTES = [
    [0, 9, 0, 0, 0, 0, 0, 0, 1, 0],  # 0 happy (clear)
    [5, 1, 1, 1, 1, 0, 0, 0, 1, 0],  # 1 neutral: majority after dropping the 1s (5 of 5)
    [4, 3, 3, 0, 0, 0, 0, 0, 0, 0],  # 2 no majority; plurality neutral
    [0, 0, 0, 0, 0, 0, 0, 8, 2, 0],  # 3 contempt
    [0, 0, 0, 0, 0, 0, 0, 0, 10, 0],  # 4 unknown wins
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 10],  # 5 NF wins
    [0, 0, 0, 5, 5, 0, 0, 0, 0, 0],  # 6 tie sad/angry
    [0, 0, 2, 0, 0, 0, 8, 0, 0, 0],  # 7 fear
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],  # 8 blank name (not a face)
    [0, 0, 0, 0, 0, 7, 0, 0, 3, 0],  # 9 disgust
]
USAGES = ["Training"] * 6 + ["PublicTest"] * 2 + ["PrivateTest"] * 2


def ferplus_rows(usages=USAGES):
    rows = []
    for i, (usage, votes) in enumerate(zip(usages, VOTES, strict=True)):
        rows.append([usage, "" if i == 8 else f"fer{i:07d}.png", *votes])
    return rows


@pytest.fixture
def csv_root(tmp_path):
    root = tmp_path / "ferplus"
    fer = fer2013_rows({"Training": [0] * 6, "PublicTest": [1] * 2, "PrivateTest": [2] * 2}, seed=3)
    write_fer2013_csv(root / "fer2013.csv", fer)
    write_csv(root / "fer2013new.csv", HEADER, ferplus_rows())
    return root, fer


def load(root, tmp_path, **kw):
    return load_dataset("ferplus", root, cache_dir=tmp_path / "cache", **kw)


def test_vote_winners():
    winners, reasons = vote_winners(np.array(VOTES), "majority")
    assert winners.tolist() == [1, 0, -1, 7, 8, 9, -1, 6, -1, 5]
    assert reasons[2] == "no majority"
    winners, reasons = vote_winners(np.array(VOTES), "plurality")
    assert winners.tolist() == [1, 0, 0, 7, 8, 9, -1, 6, -1, 5]
    assert reasons[6] == "tie" and reasons[8] == "tie"
    with pytest.raises(ConfigError, match="scheme"):
        vote_winners(np.array(VOTES), "vote")


def test_csv_majority_basic7(tmp_path, csv_root):
    root, fer = csv_root
    with pytest.warns(UserWarning, match="ferplus: skipped"):
        data = load(root, tmp_path)
    # kept rows 0 happy, 1 neutral, 7 fear, 9 disgust
    assert data.labels.tolist() == [3, 6, 2, 1]
    assert data.split.tolist() == [0, 0, 1, 2]
    assert np.array_equal(data.images[:, 0].numpy(), np.stack([fer[i][1] for i in (0, 1, 7, 9)]))
    assert data.provenance["skipped"] == {
        "not a face (blank Image name)": 1,
        "no majority": 2,
        "outside basic7 (contempt)": 1,
        "unknown wins": 1,
        "not a face (NF wins)": 1,
    }
    assert data.provenance["split"] == "official" and data.provenance["scheme"] == "majority"


def test_csv_plurality_basic8_and_file_root(tmp_path, csv_root):
    root, _ = csv_root
    with pytest.warns(UserWarning):
        data = load(root / "fer2013new.csv", tmp_path, scheme="plurality", label_space="basic8")
    # kept rows 0 happy, 1 neutral, 2 neutral, 3 contempt, 7 fear, 9 disgust
    assert data.labels.tolist() == [3, 6, 6, 7, 2, 1]
    assert data.provenance["skipped"]["tie"] == 1  # row 6; the blank-name row counts as not a face
    assert "outside basic8 (contempt)" not in data.provenance["skipped"]


def test_soft_distribution_aligned(tmp_path, csv_root):
    root, _ = csv_root
    with pytest.warns(UserWarning):
        data = load(root, tmp_path, scheme="soft")
        dist = vote_distribution(root, cache_dir=tmp_path / "cache")
    assert dist.shape == (len(data), 7)
    assert np.allclose(dist.sum(1).numpy(), 1.0)
    assert dist.argmax(1).tolist() == data.labels.tolist()
    assert dist[0, 3] == pytest.approx(1.0)  # row 0: 9 happy votes, the unknown vote excluded


def test_fer2013_setting_elsewhere_and_missing(tmp_path, csv_root):
    root, _ = csv_root
    moved = tmp_path / "elsewhere" / "fer2013.csv.gz"
    moved.parent.mkdir()
    moved.write_bytes(__import__("gzip").compress((root / "fer2013.csv").read_bytes()))
    (root / "fer2013.csv").unlink()
    with pytest.raises(DatasetError, match="need the FER2013 images: pass fer2013="):
        load(root, tmp_path)
    with pytest.warns(UserWarning):
        data = load(root, tmp_path, fer2013=moved)
    assert len(data) == 4 and data.provenance["fer2013"] == str(moved)


def test_row_count_mismatch(tmp_path, csv_root):
    root, fer = csv_root
    write_fer2013_csv(root / "fer2013.csv", fer[:-1])
    with pytest.raises(
        DatasetError, match="has 10 rows but .* has 9: FER\\+ is aligned with FER2013 by row order"
    ):
        load(root, tmp_path)


def test_usage_mismatch_means_not_aligned(tmp_path, csv_root):
    root, _ = csv_root
    write_csv(root / "fer2013new.csv", HEADER, ferplus_rows(["PublicTest"] + USAGES[1:]))
    with pytest.raises(DatasetError, match="line 2: its Usage does not match line 2"):
        load(root, tmp_path)


def test_malformed_label_row(tmp_path, csv_root):
    root, _ = csv_root
    rows = ferplus_rows()
    rows[3][5] = "x"
    write_csv(root / "fer2013new.csv", HEADER, rows)
    with pytest.raises(DatasetError, match=r"fer2013new\.csv: line 5: vote counts must be integers"):
        load(root, tmp_path)
    with pytest.warns(UserWarning):
        data = load(root, tmp_path, skip_corrupt=True)
    assert data.provenance["skipped"]["malformed label row"] == 1


def test_bad_header_and_bad_scheme(tmp_path, csv_root):
    root, _ = csv_root
    with pytest.raises(ConfigError, match="scheme"):
        load(root, tmp_path, scheme="mean")
    write_csv(root / "fer2013new.csv", ["Usage", "name"], [])
    with pytest.raises(DatasetError, match="is not FER\\+'s"):
        load(root, tmp_path)


def make_folders(root, corrupt: bool = False):
    splits = {"FER2013Train": range(0, 6), "FER2013Valid": range(6, 8), "FER2013Test": range(8, 10)}
    for folder, indices in splits.items():
        rows = []
        for i in indices:
            name = "" if i == 8 else f"fer{i:07d}.png"
            if name:
                if corrupt and i == 7:
                    write_corrupt_image(root / folder / name)
                else:
                    write_image(root / folder / name, size=(48, 48), seed=i)
            rows.append([name, "(0, 0, 48, 48)", *VOTES[i]])
        write_csv(root / folder / "label.csv", None, rows)


def test_folder_layout(tmp_path):
    root = tmp_path / "FERPlus" / "data"
    make_folders(root)
    with pytest.warns(UserWarning):
        data = load(root.parent, tmp_path)  # finds data/FER2013Train
    assert data.labels.tolist() == [3, 6, 2, 1]
    assert data.split.tolist() == [0, 0, 1, 2]
    assert data.provenance["source_size"] == [48, 48]
    assert "FER2013Train/" in data.provenance["layout"]


def test_folder_corrupt_image_and_alignment(tmp_path):
    root = tmp_path / "data"
    make_folders(root, corrupt=True)
    with pytest.raises(DatasetError, match="fer0000007.png: cannot decode"):
        load(root, tmp_path)
    with pytest.warns(UserWarning):
        data = load(root, tmp_path, skip_corrupt=True, scheme="soft")
        dist = vote_distribution(root, skip_corrupt=True, cache_dir=tmp_path / "cache")
    assert data.provenance["skipped"]["unreadable image"] == 1
    assert data.labels.tolist() == [3, 6, 6, 1]  # plurality: rows 0, 1, 2, 9 (7 unreadable)
    assert dist.shape == (4, 7) and dist.argmax(1).tolist() == data.labels.tolist()


def test_nothing_found(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "readme.md").write_text("hi")
    with pytest.raises(DatasetError, match=r"no FER\+ data found.*readme\.md"):
        load(tmp_path / "x", tmp_path)
    with pytest.raises(DatasetError, match="not found"):
        load(tmp_path / "missing", tmp_path)


def test_root_with_both_layouts_loads_from_the_folders_with_the_csv_labels(tmp_path):
    # what the FER+ tools leave: fer2013new.csv beside data/FER2013Train, FER2013Valid, FER2013Test
    root = tmp_path / "FERPlus"
    make_folders(root / "data")
    write_csv(root / "fer2013new.csv", HEADER, ferplus_rows())
    with pytest.warns(UserWarning, match="ferplus: skipped"):
        data = load(root, tmp_path)  # no fer2013.csv anywhere: the folders hold the images
    assert data.labels.tolist() == [3, 6, 2, 1] and data.split.tolist() == [0, 0, 1, 2]  # the FER+ counts
    assert data.counts() == {"train": 2, "val": 1, "test": 1}
    assert "labels from fer2013new.csv by file name" in data.provenance["layout"]
    for folder in ("FER2013Train", "FER2013Valid", "FER2013Test"):  # label.csv is not needed then
        (root / "data" / folder / "label.csv").unlink()
    with pytest.warns(UserWarning):
        again = load(root, tmp_path)
    assert again.labels.tolist() == [3, 6, 2, 1] and again.split.tolist() == [0, 0, 1, 2]
    rows = ferplus_rows()
    rows[0][2:] = [0, 0, 9, 0, 0, 0, 0, 0, 1, 0]  # the CSV now says row 0 is surprise: the CSV is used
    write_csv(root / "fer2013new.csv", HEADER, rows)
    write_image(root / "data" / "FER2013Train" / "fer0000099.png", size=(48, 48), seed=99)  # not in the CSV
    with pytest.warns(UserWarning, match="1 image not in fer2013new.csv"):
        edited = load(root, tmp_path)
    assert edited.labels.tolist() == [5, 6, 2, 1]
    assert edited.provenance["skipped"]["image not in fer2013new.csv"] == 1
