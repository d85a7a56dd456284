"""The split rules by hand: rounding, the group and subject rules, the bounds of every setting, and the
split method each result records (``provenance["split"]``, shown by ``data check`` and in
``datasets.json``). Tiny FERData built in memory; no loader, no training."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from fer_avalanche.data import splits as splits_module
from fer_avalanche.data.ferdata import FERData
from fer_avalanche.data.splits import (
    apply_split,
    cap_train,
    check_counts,
    check_fractions,
    groups_across_splits,
    split_by_counts,
    split_by_fractions,
    split_by_subject,
    subject_kfold,
)
from fer_avalanche.errors import ConfigError, DatasetError


def _data(labels, subjects=None, groups=None, split=None, name="hand") -> FERData:
    labels = torch.as_tensor(labels, dtype=torch.long)
    n = len(labels)
    return FERData(
        name=name,
        images=torch.arange(n, dtype=torch.uint8)[:, None, None, None].expand(n, 1, 4, 4).clone(),
        labels=labels,
        split=torch.zeros(n, dtype=torch.long) if split is None else torch.as_tensor(split, dtype=torch.long),
        subjects=None if subjects is None else torch.as_tensor(subjects, dtype=torch.long),
        groups=None if groups is None else torch.as_tensor(groups, dtype=torch.long),
    )


def _sizes(data: FERData) -> list[int]:
    return torch.bincount(data.split, minlength=3).tolist()


# ------------------------------------------------------------------------------ settings and bounds
@pytest.mark.parametrize(
    "fractions",
    [
        (0.8, 0.1),
        (0.8, 0.1, 0.1, 0.0),
        (1.0, 0.0, 0.0),
        (0.0, 0.0, 1.0),
        (0.9, -0.1, 0.2),
        (0.8, 0.1, 0.2),
        (0.8, 0.1, 0.09999),
    ],
)
def test_bad_fractions_are_refused_with_the_rule(fractions) -> None:
    with pytest.raises(
        ConfigError,
        match=r"split fractions must be three numbers \(train, val, test\) >= 0 summing to 1 with "
        r"train > 0 and test > 0, got \[",
    ):
        check_fractions(fractions)


def test_fractions_at_the_bounds_are_accepted() -> None:
    assert check_fractions((0.9, 0.0, 0.1)).tolist() == [0.9, 0.0, 0.1]  # no validation split
    assert check_fractions([0.8, 0.1, 0.1000005]).shape == (3,)  # within 1e-6 of 1
    assert check_fractions((0.5, 0.25, 0.25)).dtype == np.float64


@pytest.mark.parametrize(
    "counts", [(10, 5), (10, 5, 5, 5), (0, 5, 5), (10, 5, 0), (10, -1, 5), (10, 2.5, 5), ("10", 2, 5)]
)
def test_bad_counts_are_refused_with_the_rule(counts) -> None:
    with pytest.raises(
        ConfigError,
        match=r"split counts must be three integers \(train, val, test\) >= 0 with train > 0 and "
        r"test > 0, got \[",
    ):
        check_counts(counts)


def test_counts_at_the_bounds_are_accepted() -> None:
    assert check_counts((1, 0, 1)).tolist() == [1, 0, 1]
    assert check_counts(np.array([3, 2, 1])).dtype == np.int64


@pytest.mark.parametrize(
    ("k", "fold", "message"),
    [
        (1, 0, r"k-fold needs k >= 2, got 1"),
        (2.0, 0, r"k-fold needs k >= 2, got 2\.0"),
        (3, 3, r"fold must be in 0\.\.2, got 3"),
        (3, -1, r"fold must be in 0\.\.2, got -1"),
        (3, 1.0, r"fold must be in 0\.\.2, got 1\.0"),
    ],
)
def test_bad_k_and_fold_are_refused(k, fold, message) -> None:
    with pytest.raises(ConfigError, match=message):
        subject_kfold(_data([0] * 6, subjects=range(6)), k, fold)


def test_the_last_fold_and_two_folds_are_accepted() -> None:
    data = _data([0] * 6, subjects=range(6))
    assert _sizes(subject_kfold(data, 2, 1)) == [3, 0, 3]
    assert _sizes(subject_kfold(data, 6, 5)) == [5, 0, 1]


# ------------------------------------------------------------------------------ image-level rounding
def test_fractions_round_by_the_largest_remainder_within_each_class() -> None:
    # class 0: 10 images -> 5.5, 3.0, 1.5 -> 5, 3, 1 + the one left to the first largest remainder
    # class 1: 4 images -> 2.2, 1.2, 0.6 -> 2, 1, 0 + one to test (remainder 0.6)
    data = split_by_fractions(_data([0] * 10 + [1] * 4), (0.55, 0.3, 0.15), seed=0)
    assert torch.bincount(data.split[data.labels == 0], minlength=3).tolist() == [6, 3, 1]
    assert torch.bincount(data.split[data.labels == 1], minlength=3).tolist() == [2, 1, 1]


def test_unstratified_fractions_round_the_whole_dataset_once() -> None:
    data = _data([0] * 10 + [1] * 4)
    whole = split_by_fractions(data, (0.55, 0.3, 0.15), seed=0, stratify=False)  # 7.7, 4.2, 2.1
    assert _sizes(whole) == [8, 4, 2]
    assert whole.provenance["split"] == "fractions(0.55, 0.3, 0.15) seed=0"
    stratified = split_by_fractions(data, (0.55, 0.3, 0.15), seed=0)
    assert _sizes(stratified) == [8, 4, 2] and stratified.provenance["split"].endswith(" stratified")


def test_a_group_counts_for_the_class_most_of_its_frames_show() -> None:
    # group 0 shows classes 1, 1, 2: it is a unit of class 1, alone in its class, so 0.5 / 0 / 0.5 of
    # its 3 frames (1.5, 0, 1.5 -> 2, 0, 1) puts it in train (its middle frame, 1.5, falls before 2);
    # the three single images of class 2 are cut 2 / 0 / 1. Counted as class 2, it would share a cut
    # with them and land in test for some seeds.
    data = _data([1, 1, 2, 2, 2, 2], groups=[0, 0, 0, 1, 2, 3])
    for seed in range(8):
        out = split_by_fractions(data, (0.5, 0.0, 0.5), seed=seed)
        assert out.split[:3].tolist() == [0, 0, 0] and _sizes(out) == [5, 0, 1], seed
    assert out.provenance["split"] == "fractions(0.5, 0.0, 0.5) seed=7 stratified group-aware"


def test_a_group_goes_to_the_split_its_middle_frame_falls_in() -> None:
    # a group of 3 and a single image, cut 2 / 0 / 2: first in the shuffled order, the group's middle
    # (1.5) falls in train and the image (3.5) in test; second, the image (0.5) is train and the
    # group's middle (2.5) test. Both orders occur over a few seeds, nothing else.
    outcomes = set()
    for seed in range(10):
        out = split_by_fractions(_data([0] * 4, groups=[0, 0, 0, 1]), (0.5, 0.0, 0.5), seed=seed)
        assert len(set(out.split[:3].tolist())) == 1
        outcomes.add(tuple(_sizes(out)))
    assert outcomes == {(3, 0, 1), (1, 0, 3)}


# ------------------------------------------------------------------------------ exact counts
def test_counts_are_met_exactly_per_class_by_controlled_rounding() -> None:
    data = split_by_counts(_data([0] * 6 + [1] * 3), (6, 0, 3), seed=0)
    assert torch.bincount(data.split[data.labels == 0], minlength=3).tolist() == [4, 0, 2]
    assert torch.bincount(data.split[data.labels == 1], minlength=3).tolist() == [2, 0, 1]
    assert data.provenance["split"] == "counts(6, 0, 3) seed=0 stratified"
    assert "left_out_by_counts" not in data.provenance


def test_counts_below_the_total_leave_the_rest_out_and_say_how_many() -> None:
    with pytest.warns(
        UserWarning,
        match=r"split\.counts \[4, 1, 2\] uses 7 of the 10 samples of dataset 'hand'; 3 are left out",
    ):
        data = split_by_counts(_data([0] * 5 + [1] * 5), (4, 1, 2), seed=3)
    assert len(data) == 7 and _sizes(data) == [4, 1, 2]
    assert data.provenance["left_out_by_counts"] == 3
    assert sorted(torch.bincount(data.labels, minlength=2).tolist()) == [3, 4]  # left out stratified too


def test_counts_equal_to_the_total_leave_nothing_out() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = split_by_counts(_data([0] * 5 + [1] * 5), (6, 2, 2), seed=0, stratify=False)
    assert len(data) == 10 and _sizes(data) == [6, 2, 2]
    assert data.provenance["split"] == "counts(6, 2, 2) seed=0"


def test_counts_above_the_total_name_the_dataset_and_the_sum() -> None:
    with pytest.raises(
        ConfigError, match=r"split counts \[6, 2, 3\] sum to 11, more than the 10 samples of dataset 'hand'$"
    ):
        split_by_counts(_data([0] * 10), (6, 2, 3))


def test_counts_with_groups_move_whole_groups_until_exact() -> None:
    # groups of 2, 2, 1, 1, 1, 1 (one class): 5 / 0 / 3 needs a single image beside the pairs
    groups = [0, 0, 1, 1, 2, 3, 4, 5]
    for seed in range(8):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # exact: no warning
            data = split_by_counts(_data([0] * 8, groups=groups), (5, 0, 3), seed=seed)
        assert _sizes(data) == [5, 0, 3] and groups_across_splits(data) == 0, seed


def test_counts_that_whole_groups_cannot_meet_warn_with_the_sizes_obtained() -> None:
    with pytest.warns(
        UserWarning,
        match=r"split\.counts \[3, 0, 3\] cannot be met exactly with whole groups of dataset 'hand' "
        r"\(group sizes \[2\]\); got \[(2, 0, 4|4, 0, 2)\]",
    ):
        data = split_by_counts(_data([0] * 6, groups=[0, 0, 1, 1, 2, 2]), (3, 0, 3), seed=0)
    assert groups_across_splits(data) == 0


# ------------------------------------------------------------------------------ subjects
def test_subject_holdout_cuts_subjects_not_images_and_records_the_method() -> None:
    # subject 0 holds 8 images, the four others 1 each: 0.6 / 0.2 / 0.2 of 5 subjects = 3 / 1 / 1
    data = _data([0] * 12, subjects=[0] * 8 + [1, 2, 3, 4])
    out = split_by_subject(data, (0.6, 0.2, 0.2), seed=4)
    per = [set(out.subjects[out.split == s].tolist()) for s in range(3)]
    assert [len(p) for p in per] == [3, 1, 1]
    assert out.provenance["split"] == "subject-holdout(0.6, 0.2, 0.2) seed=4"


def test_subject_holdout_never_leaves_a_requested_split_empty() -> None:
    # 3 subjects at 0.9 / 0.05 / 0.05 round to 3 / 0 / 0: val and test each take one from train
    out = split_by_subject(_data([0] * 3, subjects=[0, 1, 2]), (0.9, 0.05, 0.05), seed=0)
    assert _sizes(out) == [1, 1, 1]
    no_val = split_by_subject(_data([0] * 3, subjects=[0, 1, 2]), (0.9, 0.0, 0.1), seed=0)
    assert _sizes(no_val) == [2, 0, 1]  # a split given 0 stays empty


def test_subject_splits_need_enough_subjects() -> None:
    with pytest.raises(
        DatasetError, match=r"dataset 'hand' has 2 subjects; a subject-independent split needs at least 3$"
    ):
        split_by_subject(_data([0] * 4, subjects=[0, 0, 1, 1]), (0.8, 0.1, 0.1))
    assert _sizes(split_by_subject(_data([0] * 4, subjects=[0, 0, 1, 1]), (0.5, 0.0, 0.5))) == [2, 0, 2]
    with pytest.raises(DatasetError, match=r"has 3 subjects; a subject-independent split needs at least 4$"):
        subject_kfold(_data([0] * 3, subjects=[0, 1, 2]), 4, 0)
    with pytest.raises(DatasetError, match=r"has no subject ids, so it cannot be split by subject"):
        subject_kfold(_data([0] * 3), 2, 0)


def test_subjects_sharing_a_group_are_one_block_and_are_counted() -> None:
    # subjects 0 and 1 share group 7, subjects 1 and 2 share group 8: one block of three; 3 alone
    data = _data([0] * 6, subjects=[0, 1, 1, 2, 3, 3], groups=[7, 7, 8, 8, 9, 9])
    with pytest.raises(
        DatasetError,
        match=r"has 2 subjects \(2 joined to others by shared groups\); a subject-independent split "
        r"needs at least 3",
    ):
        split_by_subject(data, (0.8, 0.1, 0.1))
    out = subject_kfold(data, 2, 0, seed=0)
    assert out.provenance["subjects_joined_by_groups"] == 2
    assert len(set(out.split[:4].tolist())) == 1 and out.split[4] == out.split[5] != out.split[0]
    alone = subject_kfold(_data([0] * 4, subjects=[0, 1, 2, 3], groups=[0, 1, 2, 3]), 2, 0)
    assert "subjects_joined_by_groups" not in alone.provenance


def test_kfold_deals_subjects_into_folds_and_takes_validation_from_the_rest() -> None:
    data = _data([0] * 10, subjects=range(10))
    test_sets = []
    for fold in range(3):
        out = subject_kfold(data, 3, fold, seed=2, val_fraction=0.3)
        test_sets.append(set(out.subjects[out.split == 2].tolist()))
        n_rest = 10 - len(test_sets[-1])
        assert out.counts()["val"] == round(0.3 * n_rest)
        assert out.provenance["split"] == f"subject-kfold k=3 fold={fold} seed=2 val=0.3"
    assert sorted(len(t) for t in test_sets) == [3, 3, 4]  # array_split: 4, 3, 3
    assert set().union(*test_sets) == set(range(10))
    tiny_val = subject_kfold(data, 5, 0, seed=2, val_fraction=0.01)
    assert tiny_val.counts()["val"] == 1  # a positive fraction takes at least one subject
    assert subject_kfold(data, 5, 0, seed=2, val_fraction=0.0).counts()["val"] == 0


# ------------------------------------------------------------------------------ apply_split
def test_apply_split_dispatches_every_method_with_its_settings() -> None:
    data = _data([0, 1] * 10, subjects=np.arange(20) % 5, split=[0] * 14 + [1] * 2 + [2] * 4)
    assert apply_split(data, "official") is data
    fractions = apply_split(data, "fractions", fractions=(0.5, 0.2, 0.3), seed=3)
    assert torch.equal(fractions.split, split_by_fractions(data, (0.5, 0.2, 0.3), seed=3).split)
    unstratified = apply_split(data, "fractions", fractions=(0.5, 0.2, 0.3), seed=3, stratify=False)
    assert unstratified.provenance["split"] == "fractions(0.5, 0.2, 0.3) seed=3"
    with pytest.warns(UserWarning, match="left out"):
        counts = apply_split(data, "fractions", counts=(8, 2, 4), seed=1, stratify=False)
    assert counts.provenance["split"] == "counts(8, 2, 4) seed=1"
    subject = apply_split(data, "subject", fractions=(0.6, 0.2, 0.2), seed=2)
    assert subject.provenance["split"] == "subject-holdout(0.6, 0.2, 0.2) seed=2"
    kfold = apply_split(data, "kfold", k=5, fold=4, seed=1, val_fraction=0.25)
    assert torch.equal(kfold.split, subject_kfold(data, 5, 4, seed=1, val_fraction=0.25).split)
    assert kfold.provenance["split"] == "subject-kfold k=5 fold=4 seed=1 val=0.25"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"method": "fractions", "seed": "run"},
            r"split\.seed must be an integer here, got 'run' \(a scenario's",
        ),
        ({"method": "fractions", "seed": 1.5}, r"split\.seed must be an integer here, got 1\.5"),
        ({"method": "kfold", "folds": "all"}, r"split\.folds = 'all' must be resolved to one fold first"),
        (
            {"method": "subject", "counts": (5, 1, 2)},
            r"split\.counts applies to method 'fractions' \(image-level\), not 'subject'",
        ),
        (
            {"method": "random"},
            r"unknown split method 'random'; expected one of official, fractions, subject, kfold$",
        ),
    ],
)
def test_apply_split_refuses_settings_it_cannot_use(kwargs, message) -> None:
    with pytest.raises(ConfigError, match=message):
        apply_split(_data([0, 1] * 5, subjects=range(10)), **kwargs)


@pytest.mark.parametrize(
    ("split", "found"), [([0] * 8 + [1] * 2, "'test': 0"), ([2] * 8 + [1] * 2, "'train': 0")]
)
def test_official_needs_a_train_and_a_test_split(split, found) -> None:
    with pytest.raises(
        ConfigError,
        match=rf"dataset 'hand' has no official train/test split \(found .*{found}.*\); set split\.method to "
        r"'fractions', 'subject' or 'kfold'",
    ):
        apply_split(_data([0] * 10, split=split), "official")


def test_official_split_with_groups_on_two_sides_is_warned_and_recorded() -> None:
    data = _data([0] * 6, groups=[0, 0, 1, 1, 2, 2], split=[0, 2, 0, 0, 1, 2])
    assert groups_across_splits(data) == 2
    with pytest.warns(
        UserWarning, match=r"dataset 'hand': its official split puts 2 groups in more than one split"
    ):
        out = apply_split(data, "official")
    assert out.provenance["groups_across_splits"] == 2 and torch.equal(out.split, data.split)
    clean = _data([0] * 4, groups=[0, 0, 1, 1], split=[0, 0, 2, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "groups_across_splits" not in apply_split(clean, "official").provenance
    assert groups_across_splits(_data([0] * 4, split=[0, 0, 2, 2])) == 0


# ------------------------------------------------------------------------------ cap_train
def test_cap_train_keeps_class_shares_and_leaves_val_and_test_alone() -> None:
    # train: 6 of class 0, 3 of class 1 (2 : 1); capped to 3 -> 2 and 1
    data = _data([0] * 6 + [1] * 3 + [0, 1], split=[0] * 9 + [1, 2])
    capped = cap_train(data, 3, seed=0)
    assert torch.bincount(capped.labels[capped.split == 0], minlength=2).tolist() == [2, 1]
    assert capped.counts() == {"train": 3, "val": 1, "test": 1}
    assert capped.provenance["max_train"] == 3
    assert (
        capped.provenance["max_train_rule"]
        == "stratified: every class keeps its share of train within one sample"
    )
    drawn = {tuple(cap_train(data, 3, seed=s).images[:, 0, 0, 0].tolist()) for s in range(6)}
    assert len(drawn) > 1  # the seed draws the kept samples


def test_cap_train_at_or_above_the_train_size_changes_nothing() -> None:
    data = _data([0] * 6 + [1] * 3, split=[0] * 7 + [2] * 2)
    assert cap_train(data, 7) is data and cap_train(data, 100) is data
    assert len(cap_train(data, 6)) == 8


@pytest.mark.parametrize("bad", [0, -3, 2.5, "10"])
def test_cap_train_refuses_a_bad_cap(bad) -> None:
    with pytest.raises(ConfigError, match=rf"max_train must be an integer >= 1, got {bad!r}"):
        cap_train(_data([0] * 4, split=[0, 0, 2, 2]), bad)


# ------------------------------------------------------------------------------ defaults
def test_the_documented_defaults() -> None:
    data = _data([0, 1] * 50, subjects=np.arange(100) % 10, split=[0] * 60 + [1] * 20 + [2] * 20)
    assert apply_split(data) is data  # method "official"
    assert torch.equal(
        apply_split(data, "fractions").split, split_by_fractions(data, (0.8, 0.1, 0.1), 0).split
    )
    assert _sizes(split_by_fractions(data)) == [80, 10, 10]
    kfold = apply_split(data, "kfold")  # k = 10, fold 0, seed 0, val_fraction 0.1: one subject each
    assert kfold.provenance["split"] == "subject-kfold k=10 fold=0 seed=0 val=0.1"
    assert [len(set(kfold.subjects[kfold.split == s].tolist())) for s in range(3)] == [8, 1, 1]
    assert subject_kfold(data, 5, 0).provenance["split"] == "subject-kfold k=5 fold=0 seed=0 val=0.0"
    assert split_by_subject(data).provenance["split"] == "subject-holdout(0.8, 0.1, 0.1) seed=0"
    assert split_by_counts(data, (60, 20, 20)).provenance["split"] == "counts(60, 20, 20) seed=0 stratified"
    assert torch.equal(cap_train(data, 10).images, cap_train(data, 10, seed=0).images)


def test_cap_train_of_one_sample_and_its_draw_is_reproducible() -> None:
    data = _data([0] * 6 + [1] * 3, split=[0] * 9)
    assert cap_train(data, 1).counts()["train"] == 1
    assert torch.equal(cap_train(data, 4, seed=3).images, cap_train(data, 4, seed=3).images)


def test_counts_move_a_single_image_rather_than_swap_a_pair() -> None:
    # class 5: five pairs (groups of 2), class 6: ten single images; counts 10 / 0 / 10, so each class's
    # target is 5 / 0 / 5. The pairs cut 4 / 6 (middles 1, 3 | 5, 7, 9); the singles 5 / 5; test is one
    # over. The repair moves one single (a unit no larger than the excess) to train: pairs 4 / 6,
    # singles 6 / 4. (Swapping a pair for a single would give 6 / 4 and 4 / 6 instead.)
    labels = [5] * 10 + [6] * 10
    groups = [g // 2 for g in range(10)] + list(range(10, 20))
    for seed in range(4):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = split_by_counts(_data(labels, groups=groups), (10, 0, 10), seed=seed)
        assert torch.bincount(out.split[:10], minlength=3).tolist() == [4, 0, 6], seed
        assert torch.bincount(out.split[10:], minlength=3).tolist() == [6, 0, 4], seed
        assert groups_across_splits(out) == 0


def test_counts_swap_units_when_no_single_unit_fits() -> None:
    # one class: groups of 3, 3 and 2, 2 (10 images); counts 5 / 0 / 5: whole groups cut
    # 3 + 2 | 3 + 2 or worse; no move of one unit fixes a surplus of 1, a swap of a 3 for a 2 does
    groups = [0, 0, 0, 1, 1, 1, 2, 2, 3, 3]
    for seed in range(6):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # met exactly
            out = split_by_counts(_data([0] * 10, groups=groups), (5, 0, 5), seed=seed)
        assert _sizes(out) == [5, 0, 5] and groups_across_splits(out) == 0, seed


# ------------------------------------------------------------------------------ the choices within the rules
def test_a_dataset_without_subjects_is_pointed_to_an_image_level_split() -> None:
    with pytest.raises(
        DatasetError,
        match=r"^dataset 'hand' has no subject ids, so it cannot be split by subject; use an image-level "
        r"split \(split_by_fractions\) instead$",
    ):
        split_by_subject(_data([0] * 4), (0.5, 0.0, 0.5))


def test_every_split_left_to_its_default_seed_is_the_same_every_time() -> None:
    # 40 subjects of one image each: two unseeded draws would almost never agree
    data = _data([0, 1] * 20, subjects=range(40), split=[0] * 30 + [1] * 4 + [2] * 6)
    for split in (split_by_subject, split_by_fractions, lambda d, **kw: subject_kfold(d, 4, 1, **kw)):
        assert torch.equal(split(data).split, split(data, seed=0).split)
        assert torch.equal(split(data, seed=5).split, split(data, seed=5).split)
        assert not torch.equal(split(data, seed=0).split, split(data, seed=1).split)
    counts = split_by_counts(data, (30, 4, 6))
    assert torch.equal(counts.split, split_by_counts(data, (30, 4, 6), seed=0).split)
    assert torch.equal(cap_train(data, 10).images, cap_train(data, 10, seed=0).images)
    assert not torch.equal(cap_train(data, 10, seed=0).images, cap_train(data, 10, seed=1).images)


def test_subjects_sharing_one_group_three_ways_are_one_block() -> None:
    # group 5 holds a frame of subjects 2, 0 and 1 (in that order); subjects 3 and 4 stand alone:
    # three blocks, two subjects joined to another
    data = _data([0] * 6, subjects=[2, 0, 1, 3, 4, 1], groups=[5, 5, 5, 6, 7, 8])
    for seed in range(4):
        out = subject_kfold(data, 3, 0, seed=seed)
        assert out.provenance["subjects_joined_by_groups"] == 2
        assert len(set(out.split[[0, 1, 2, 5]].tolist())) == 1, seed
        assert sorted(out.split[[0, 3, 4]].tolist()) == [0, 0, 2], seed  # 3 blocks, 3 folds: one in test
    with pytest.raises(DatasetError, match=r"has 3 subjects \(2 joined to others by shared groups\); a "):
        subject_kfold(data, 4, 0)


@pytest.mark.parametrize(
    ("sizes", "counts", "per_class"),
    [
        # class 0: 6 x (4, 2, 1) / 7 = 3.43, 1.71, 0.86; class 1: 0.57, 0.29, 0.14. The cells with the
        # largest fractional parts take the units left: class 0's 0.86 in test, 0.71 in val; class 1's
        # one image goes to train (its largest share)
        ((6, 1), (4, 2, 1), [[3, 2, 1], [1, 0, 0]]),
        # with images left out (a fourth column, 13 - 8 = 5 of them)
        ((4, 2, 3, 4), (3, 0, 5), [[1, 0, 2], [0, 0, 1], [1, 0, 1], [1, 0, 1]]),
        ((3, 2, 6), (4, 0, 3), [[1, 0, 1], [1, 0, 0], [2, 0, 2]]),
        ((2, 3, 4), (2, 1, 4), [[0, 1, 1], [1, 0, 1], [1, 0, 2]]),
    ],
)
def test_counts_give_every_class_its_controlled_rounding(sizes, counts, per_class) -> None:
    labels = [c for c, size in enumerate(sizes) for _ in range(size)]
    for seed in range(3):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the "left out" warning
            out = split_by_counts(_data(labels), counts, seed=seed)
        got = [torch.bincount(out.split[out.labels == c], minlength=3).tolist() for c in range(len(sizes))]
        assert got == per_class, seed
        assert _sizes(out) == list(counts)


def test_cap_train_gives_tied_remainders_to_the_classes_in_label_order() -> None:
    # train holds 2, 2, 3 and 3 images of classes 0-3; capped to 5: shares 1, 1, 1.5, 1.5, so one of
    # classes 2 and 3 keeps a second image, always the first one (on every machine: a stable sort)
    data = _data([0] * 2 + [1] * 2 + [2] * 3 + [3] * 3)
    for seed in range(3):
        capped = cap_train(data, 5, seed=seed)
        assert torch.bincount(capped.labels, minlength=4).tolist() == [1, 1, 2, 1], seed


def _counts_exactly(labels, groups, counts, seed) -> FERData:
    """``split_by_counts`` that must meet ``counts``: the only warning allowed is the "left out" one."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = split_by_counts(_data(labels, groups=groups), counts, seed=seed)
    assert [str(w.message) for w in caught if "are left out" not in str(w.message)] == []
    assert len(caught) == (1 if sum(counts) < len(labels) else 0)
    assert _sizes(out) == list(counts) and groups_across_splits(out) == 0
    return out


@pytest.mark.parametrize(
    ("labels", "groups", "counts", "split"),
    [
        # one class, a single image and a pair, 2 / 0 / 1: whichever is cut first, the pair ends in
        # train and the single in test (a swap when the pair was cut into test)
        ([0, 0, 0], [0, 1, 1], (2, 0, 1), [2, 0, 0]),
        ([0, 0, 0], [0, 0, 1], (1, 0, 2), [2, 2, 0]),
        # one class, a single and a triple, 3 / 0 / 1: the single in test, even when the cut leaves
        # test empty
        ([1, 1, 1, 1], [0, 1, 1, 1], (3, 0, 1), [2, 0, 0, 0]),
        # a swap between classes when no two units of one class can be swapped
        ([0, 1, 1], [0, 1, 1], (2, 0, 1), [2, 0, 0]),
        # a swap within a class when it can: class 1 (3 images) has one test image as its target and
        # class 0 (1 image) none, so the single of class 1 goes to test, not the one of class 0
        ([0, 1, 1, 1], [0, 1, 2, 2], (3, 0, 1), [0, 2, 0, 0]),
        ([0, 0, 0, 1], [0, 1, 1, 2], (3, 0, 1), [2, 0, 0, 0]),
        # a move takes a unit of the class most over its target: class 1 (3 images) has a train
        # target of 1 and class 0 (1 image) none, so a single of class 1 moves to train
        ([0, 1, 1, 1], [0, 1, 1, 2], (1, 0, 3), [2, 2, 2, 0]),
    ],
)
def test_counts_with_groups_move_the_unit_that_keeps_the_classes_on_target(
    labels, groups, counts, split
) -> None:
    for seed in range(6):
        assert _counts_exactly(labels, groups, counts, seed).split.tolist() == split, seed


@pytest.mark.parametrize(
    ("labels", "groups", "counts", "seed", "kept", "split"),
    [
        # test 2 over: the largest unit that fits (a pair) moves, not one single after another
        ([1, 1, 2, 2, 2], [0, 0, 1, 1, 2], (2, 0, 3), 0, [0, 1, 2, 3, 4], [0, 0, 2, 2, 2]),
        ([0, 1, 1, 1, 1], [0, 1, 2, 2, 3], (2, 0, 3), 1, [0, 1, 2, 3, 4], [2, 0, 2, 2, 0]),
        # with images left out: the surplus of test is taken before that of the left-out share, the
        # largest shortfall filled first, and the next split tried when one has nothing to give
        ([1, 1, 1, 2, 2, 2], [0, 1, 1, 2, 2, 3], (3, 0, 1), 0, [0, 3, 4, 5], [2, 0, 0, 0]),
        ([0] * 7, [0, 0, 1, 2, 3, 3, 3], (1, 1, 3), 2, [2, 3, 4, 5, 6], [0, 1, 2, 2, 2]),
        (
            [0] * 6 + [1] * 3,
            [0, 0, 0, 1, 2, 3, 4, 4, 4],
            (6, 0, 1),
            2,
            [0, 1, 2, 4, 6, 7, 8],
            [0, 0, 0, 2, 0, 0, 0],
        ),
        ([0] * 6, [0, 1, 1, 1, 2, 2], (2, 0, 1), 1, [0, 4, 5], [2, 0, 0]),
        ([0] * 6, [0, 0, 0, 1, 1, 2], (3, 0, 2), 0, [0, 1, 2, 3, 4], [0, 0, 0, 2, 2]),
    ],
)
def test_counts_with_groups_place_these_images(labels, groups, counts, seed, kept, split) -> None:
    out = _counts_exactly(labels, groups, counts, seed)
    assert out.images[:, 0, 0, 0].tolist() == kept and out.split.tolist() == split


def test_counts_that_leave_a_split_empty_warn_with_all_three_sizes() -> None:
    # a triple and a pair (one class), 4 / 0 / 1: the pair alone in test (3 / 0 / 2) or nothing in test
    # (5 / 0 / 0), depending on the shuffle; neither can be repaired with whole groups
    got = set()
    for seed in range(8):
        with pytest.warns(UserWarning, match=r"group sizes \[2, 3\]\); got \[(3, 0, 2|5, 0, 0)\]$") as caught:
            split_by_counts(_data([0] * 5, groups=[0, 0, 0, 1, 1]), (4, 0, 1), seed=seed)
        got.add(str(caught[0].message).rpartition("got ")[2])
    assert got == {"[3, 0, 2]", "[5, 0, 0]"}


def test_unstratified_counts_with_groups_are_met() -> None:
    # a triple and a pair, 3 / 0 / 2, cut over the whole dataset: when the pair is cut first (2 / 0 / 3),
    # the two are swapped; either way the triple is train and the pair test
    for seed in range(6):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = split_by_counts(
                _data([0, 0, 1, 1, 1], groups=[0, 0, 0, 1, 1]), (3, 0, 2), seed=seed, stratify=False
            )
        assert out.split.tolist() == [0, 0, 0, 2, 2], seed
        assert out.provenance["split"] == f"counts(3, 0, 2) seed={seed} group-aware"


def test_apply_split_counts_are_stratified_by_default() -> None:
    data = _data([0] * 6 + [1] * 3)
    out = apply_split(data, "fractions", counts=(6, 0, 3), seed=2)
    assert out.provenance["split"] == "counts(6, 0, 3) seed=2 stratified"
    assert torch.equal(out.split, split_by_counts(data, (6, 0, 3), seed=2).split)


def test_apply_split_names_where_a_run_seed_or_all_folds_are_resolved() -> None:
    data = _data([0, 1] * 5, subjects=range(10))
    with pytest.raises(
        ConfigError,
        match=r"^split\.seed must be an integer here, got 'run' \(a scenario's seed = \"run\" is resolved by "
        r"fer_avalanche\.experiment\.specs\.load_dataset_spec\(run_seed=\.\.\.\)\)$",
    ):
        apply_split(data, "fractions", seed="run")
    with pytest.raises(
        ConfigError,
        match=r"^split\.folds = 'all' must be resolved to one fold first \(fer_avalanche\.experiment\.specs\."
        r"load_dataset_spec\(fold=\.\.\.\) does it\)$",
    ):
        apply_split(data, "kfold", folds="all")


def test_split_warnings_are_attributed_to_the_caller_not_to_the_splits_module() -> None:
    # stacklevel=2: the warning names the line that asked for the split (a wrapper adding a frame, as
    # mutation testing's does, moves it one frame, so only "not inside splits.py" is asserted)
    with pytest.warns(UserWarning, match="are left out") as left_out:
        split_by_counts(_data([0] * 5), (2, 1, 1))
    with pytest.warns(UserWarning, match="cannot be met exactly") as inexact:
        split_by_counts(_data([0] * 4, groups=[0, 0, 1, 1]), (3, 0, 1))
    with pytest.warns(UserWarning, match="its official split puts 1 groups") as official:
        apply_split(_data([0] * 4, groups=[0, 0, 1, 1], split=[0, 2, 2, 2]), "official")
    for caught in (left_out, inexact, official):
        assert len(caught) == 1
        assert Path(caught[0].filename).resolve() != Path(splits_module.__file__).resolve()


def test_subject_holdout_fills_an_empty_split_from_the_largest() -> None:
    # 4 subjects at 0.2 / 0.05 / 0.75 round to 1 / 0 / 3: validation takes one from test, not train
    out = split_by_subject(_data([0] * 4, subjects=range(4)), (0.2, 0.05, 0.75), seed=0)
    assert _sizes(out) == [1, 1, 2]


def test_subject_holdout_records_the_subjects_joined_by_groups() -> None:
    data = _data([0] * 8, subjects=[0, 1, 2, 3, 4, 5, 6, 6], groups=[0, 0, 1, 2, 3, 4, 5, 6])
    out = split_by_subject(data, (0.5, 0.25, 0.25), seed=0)
    assert out.provenance["subjects_joined_by_groups"] == 1
    assert out.split[0] == out.split[1]
    alone = split_by_subject(_data([0] * 4, subjects=range(4), groups=range(4)), (0.5, 0.0, 0.5))
    assert "subjects_joined_by_groups" not in alone.provenance
