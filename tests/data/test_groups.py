"""Groups (the frames of one CK+ sequence, of one MUG take) never span two splits, under every method.

The fixtures are written in the real on-disk layouts (CK+48 class folders, the official CK+ tree, MUG's
subjects3 tree) and loaded by the real loaders, so the groups come from the file names and folders.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent / "formats"))
from fixtures import write_ck48, write_ckplus_official, write_csv, write_image, write_mug  # noqa: E402

from fer_avalanche.data.ferdata import FERData  # noqa: E402
from fer_avalanche.data.registry import load_dataset  # noqa: E402
from fer_avalanche.data.splits import apply_split, groups_across_splits, split_by_counts  # noqa: E402
from fer_avalanche.errors import ConfigError  # noqa: E402

SEQUENCE_SETS = ("ck48", "ckplus", "mug")
#: exact sizes per fixture, in whole groups (CK+48: 36 groups of 3, CK+: 36 of 4, MUG: 80 of 3)
COUNTS = {"ck48": (66, 15, 27), "ckplus": (88, 20, 36), "mug": (150, 30, 60)}


@pytest.fixture(scope="module")
def sequences(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FERData]:
    root = tmp_path_factory.mktemp("sequences")
    return {
        "ck48": load_dataset("ckplus", write_ck48(root / "ck48"), use_cache=False),
        "ckplus": load_dataset(
            "ckplus",
            write_ckplus_official(root / "ck"),
            face_crop="none",
            first_frame_neutral=True,
            use_cache=False,
        ),
        "mug": load_dataset("mug", write_mug(root / "mug"), face_crop="none", use_cache=False),
    }


def _splits_per_group(data: FERData) -> dict[int, set[int]]:
    assert data.groups is not None
    out: dict[int, set[int]] = {}
    for g, s in zip(data.groups.tolist(), data.split.tolist(), strict=True):
        out.setdefault(g, set()).add(s)
    return out


def _assert_no_group_in_two_splits(data: FERData) -> None:
    shared = {g: s for g, s in _splits_per_group(data).items() if len(s) > 1}
    assert not shared, f"groups in more than one split: {shared}"


def test_loaders_give_one_group_per_sequence_or_take(sequences: dict[str, FERData]) -> None:
    ck48, ck, mug = sequences["ck48"], sequences["ckplus"], sequences["mug"]
    assert len(ck48) == 108 and ck48.num_groups == 36 and ck48.num_subjects == 12
    assert torch.bincount(ck48.groups).tolist() == [3] * 36  # the 3 frames of each Sxxx_yyy
    assert len(ck) == 144 and ck.num_groups == 36  # 3 peak frames + the neutral onset per sequence
    per_group = {g: sorted(ck.labels[ck.groups == g].tolist()) for g in range(36)}
    assert all(len(v) == 4 and v.count(6) == 1 for v in per_group.values())  # one neutral (6) each
    assert len(mug) == 240 and mug.num_groups == 80 and mug.num_subjects == 10
    for data in sequences.values():  # a group never mixes subjects
        for g in torch.unique(data.groups).tolist():
            assert torch.unique(data.subjects[data.groups == g]).numel() == 1


def _methods(name: str) -> list[tuple[str, dict]]:
    return [
        ("fractions", {"method": "fractions", "fractions": (0.6, 0.15, 0.25)}),
        ("counts", {"method": "fractions", "counts": COUNTS[name]}),
        ("subject", {"method": "subject", "fractions": (0.6, 0.2, 0.2)}),
        *[(f"kfold{f}", {"method": "kfold", "k": 4, "fold": f, "val_fraction": 0.2}) for f in range(4)],
    ]


CASES = [(name, label, kw) for name in SEQUENCE_SETS for label, kw in _methods(name)]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("name", "label", "settings"), CASES, ids=[f"{n}-{m}" for n, m, _ in CASES])
def test_no_group_is_in_two_splits(sequences, name, label, settings, seed) -> None:
    out = apply_split(sequences[name], seed=seed, **settings)
    _assert_no_group_in_two_splits(out)
    assert groups_across_splits(out) == 0
    counts = out.counts()
    assert counts["train"] > 0 and counts["test"] > 0
    if label == "counts":
        assert tuple(counts.values()) == COUNTS[name]


def test_image_level_fractions_without_groups_do_leak(sequences) -> None:
    # the failure mode the groups prevent: drop the groups and most sequences straddle train and test
    data = sequences["ck48"]
    ungrouped = FERData(data.name, data.images, data.labels, data.split, subjects=data.subjects)
    out = apply_split(ungrouped, "fractions", fractions=(0.6, 0.15, 0.25), seed=0)
    regrouped = FERData(out.name, out.images, out.labels, out.split, groups=data.groups)
    assert groups_across_splits(regrouped) > 18


@pytest.mark.parametrize("name", SEQUENCE_SETS)
def test_fractions_are_stratified_within_half_a_group_per_boundary(sequences, name) -> None:
    data = sequences[name]
    f = np.array([0.6, 0.15, 0.25])
    out = apply_split(data, "fractions", fractions=f, seed=4)
    size = int(torch.bincount(data.groups).max())
    labels = out.labels.numpy()
    # each group counts for its majority class (CK+: the emotion, not the onset's neutral)
    group_class = {
        g: int(np.bincount(labels[out.groups.numpy() == g]).argmax()) for g in range(out.num_groups)
    }
    per_sample_class = np.array([group_class[g] for g in out.groups.tolist()])
    for c in np.unique(per_sample_class):
        in_class = per_sample_class == c
        got = np.bincount(out.split.numpy()[in_class], minlength=3)
        raw = f * in_class.sum()
        target = np.floor(raw).astype(int)
        target[np.argsort(-(raw - target), kind="stable")[: in_class.sum() - target.sum()]] += 1
        assert abs(got[0] - target[0]) <= size / 2, (c, got, target)
        assert abs(got[2] - target[2]) <= size / 2, (c, got, target)
        assert abs(got[1] - target[1]) <= size, (c, got, target)


@pytest.mark.filterwarnings("ignore:split.counts .* are left out")
def test_counts_are_exact_with_groups_of_different_sizes(tmp_path: Path) -> None:
    # takes of 5 and 2 frames: groups of 3 and 2 images; the split moves whole groups until exact
    data = load_dataset(
        "mug", write_mug(tmp_path / "mug", frames=(5, 5, 2)), face_crop="none", use_cache=False
    )
    assert sorted(set(torch.bincount(data.groups).tolist())) == [2, 3]
    n = len(data)
    for seed in range(4):
        for counts in [(int(0.6 * n) + 1, 13, n - int(0.6 * n) - 14), (101, 17, 55)]:
            out = split_by_counts(data, counts, seed=seed)
            assert tuple(out.counts().values()) == counts, (seed, counts)
            _assert_no_group_in_two_splits(out)


def test_counts_that_whole_groups_cannot_meet_warn_with_the_sizes_obtained(sequences) -> None:
    expected = r"cannot be met exactly with whole groups.*group sizes \[3\]\); got \[66, 15, 27\]"
    with pytest.warns(UserWarning, match=expected):
        out = split_by_counts(sequences["ck48"], (65, 16, 27), seed=0)
    _assert_no_group_in_two_splits(out)
    assert sum(out.counts().values()) == 108


def test_counts_below_the_total_leave_whole_groups_out(sequences) -> None:
    with pytest.warns(UserWarning, match=r"uses 90 of the 108 samples.*18 are left out"):
        out = split_by_counts(sequences["ck48"], (60, 9, 21), seed=1)
    assert out.counts() == {"train": 60, "val": 9, "test": 21}
    assert out.provenance["left_out_by_counts"] == 18
    _assert_no_group_in_two_splits(out)
    assert torch.bincount(torch.unique(out.groups, return_inverse=True)[1]).tolist() == [3] * 30
    with pytest.raises(ConfigError, match=r"sum to 109, more than the 108 samples"):
        split_by_counts(sequences["ck48"], (70, 12, 27))


def test_kfold_test_folds_partition_groups_and_subjects(sequences) -> None:
    for data in sequences.values():
        seen: list[int] = []
        for fold in range(4):
            out = apply_split(data, "kfold", k=4, fold=fold, seed=3, val_fraction=0.2)
            seen += torch.unique(out.groups[out.split == 2]).tolist()
        assert sorted(seen) == list(range(data.num_groups))


def test_subjects_sharing_a_group_are_kept_together() -> None:
    # group 0 holds images of subjects 0 and 1: a subject split must treat them as one
    n = 40
    data = FERData(
        "toy",
        torch.zeros(n, 1, 8, 8, dtype=torch.uint8),
        torch.arange(n) % 7,
        torch.zeros(n, dtype=torch.long),
        subjects=torch.arange(n) // 4,
        groups=torch.tensor([0] * 8 + list(range(1, n - 7))),
    )
    for seed in range(5):
        out = apply_split(data, "subject", fractions=(0.5, 0.25, 0.25), seed=seed)
        _assert_no_group_in_two_splits(out)
        assert out.provenance["subjects_joined_by_groups"] == 1


def test_official_split_across_groups_is_warned(tmp_path: Path) -> None:
    root = tmp_path / "faces"
    write_image(root / "train" / "happy" / "S1_01_a.png", size=(20, 20))
    write_image(root / "test" / "happy" / "S1_01_b.png", size=(20, 20), seed=1)
    write_image(root / "test" / "sad" / "S2_01_a.png", size=(20, 20), seed=2)
    data = load_dataset("folder", root, group_regex=r"^(S\d+_\d+)_", use_cache=False)
    assert data.num_groups == 2
    with pytest.warns(UserWarning, match="official split puts 1 groups in more than one split"):
        out = apply_split(data, "official")
    assert out.provenance["groups_across_splits"] == 1 and "groups_across_splits" not in data.provenance


def test_folder_group_regex_and_csv_group_column(tmp_path: Path) -> None:
    root = tmp_path / "faces"
    names = ["S1_001_01.png", "S1_001_02.png", "S1_002_01.png", "S2_001_01.png"]
    for i, name in enumerate(names):
        write_image(root / "happy" / name, size=(20, 20), seed=i)
    data = load_dataset(
        "folder", root, group_regex=r"^(S\d+_\d+)_", subject_regex=r"^(S\d+)_", use_cache=False
    )
    assert data.groups.tolist() == [0, 0, 1, 2] and data.subjects.tolist() == [0, 0, 0, 1]
    assert data.provenance["group_rule"] == "group_regex '^(S\\\\d+_\\\\d+)_'"
    with pytest.raises(Exception, match=r"S9\.png: file name does not match group_regex"):
        write_image(root / "happy" / "S9.png", size=(20, 20))
        load_dataset("folder", root, group_regex=r"^(S\d+_\d+)_", use_cache=False)
    csv = write_csv(
        tmp_path / "list.csv",
        ["path", "label", "group"],
        [[f"faces/happy/{n}", "happy", g] for n, g in zip(names, ["a", "a", "", "b"], strict=True)],
    )
    listed = load_dataset("csv", csv, use_cache=False)
    assert listed.groups.tolist() == [0, 0, 2, 1]  # the empty cell is a group of its own
    no_groups = load_dataset(
        "csv",
        write_csv(tmp_path / "plain.csv", ["path", "label"], [["faces/happy/S1_001_01.png", "happy"]]),
        use_cache=False,
    )
    assert no_groups.groups is None and no_groups.num_groups is None


def test_tfeid_name_regex_group(tmp_path: Path) -> None:
    root = tmp_path / "tfeid"
    for i, name in enumerate(["m01_s1_ha_1.jpg", "m01_s1_ha_2.jpg", "m01_s2_sa_1.jpg"]):
        write_image(root / name, size=(20, 20), seed=i)
    data = load_dataset(
        "tfeid",
        root,
        name_regex=r"(?P<subject>m\d+)_(?P<group>s\d)_(?P<expr>[a-z]+)_",
        face_crop="none",
        use_cache=False,
    )
    assert data.groups.tolist() == [0, 0, 1] and data.subjects.tolist() == [0, 0, 0]
