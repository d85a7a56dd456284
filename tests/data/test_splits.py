import pytest
import torch

from fer_avalanche.data.splits import apply_split, split_by_fractions, split_by_subject, subject_kfold
from fer_avalanche.errors import ConfigError, DatasetError


def test_fraction_split_is_stratified_and_seeded(make_fer):
    data = make_fer(n=700)
    a = split_by_fractions(data, (0.615, 0.07, 0.315), seed=3)
    b = split_by_fractions(data, (0.615, 0.07, 0.315), seed=3)
    c = split_by_fractions(data, (0.615, 0.07, 0.315), seed=4)
    assert torch.equal(a.split, b.split) and not torch.equal(a.split, c.split)
    for cls in range(7):  # 100 per class -> 62 / 7 / 31 (largest remainder)
        per = torch.bincount(a.split[a.labels == cls], minlength=3).tolist()
        assert sum(per) == 100 and abs(per[0] - 61.5) <= 1 and abs(per[2] - 31.5) <= 1
    assert "fractions" in a.provenance["split"]


def test_subject_split_never_shares_a_subject(make_fer):
    data = make_fer(n=140)
    data = data.subset(torch.arange(140), name="x")
    data.subjects = torch.arange(140) % 10
    out = split_by_subject(data, (0.6, 0.2, 0.2), seed=1)
    groups = [set(out.subjects[out.split == s].tolist()) for s in range(3)]
    assert all(groups)
    assert not (groups[0] & groups[1]) and not (groups[0] & groups[2]) and not (groups[1] & groups[2])


def test_kfold_test_folds_partition_the_subjects(make_fer):
    data = make_fer(n=140)
    data.subjects = torch.arange(140) % 10
    seen = []
    for fold in range(5):
        out = subject_kfold(data, 5, fold, seed=0, val_fraction=0.1)
        test_subjects = set(out.subjects[out.split == 2].tolist())
        assert not test_subjects & set(out.subjects[out.split != 2].tolist())
        seen.extend(test_subjects)
    assert sorted(seen) == list(range(10))


def test_subject_split_needs_subjects(make_fer):
    data = make_fer()
    data.subjects = None
    with pytest.raises(DatasetError, match="no subject ids"):
        split_by_subject(data)


@pytest.mark.parametrize("fractions", [(0.5, 0.5), (0.7, 0.2, 0.2), (0.0, 0.5, 0.5), (-0.1, 0.6, 0.5)])
def test_bad_fractions_rejected(make_fer, fractions):
    with pytest.raises(ConfigError, match="fractions"):
        split_by_fractions(make_fer(), fractions)


def test_official_split_missing_is_explained(make_fer):
    data = make_fer()
    data.split = torch.zeros(len(data), dtype=torch.long)
    with pytest.raises(ConfigError, match="no official train/test split"):
        apply_split(data, "official")
    with pytest.raises(ConfigError, match="unknown split method"):
        apply_split(data, "random")
