"""``load_dataset_spec``: a scenario's dataset loaded, split (exact counts, "run" seeds, all folds) and
capped (``max_train`` stratified); ``SplitSpec`` validation names the key."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data" / "formats"))
from fixtures import write_image  # noqa: E402

from fer_avalanche.config import DatasetSpec, Scenario, SplitSpec  # noqa: E402
from fer_avalanche.data.splits import cap_train  # noqa: E402
from fer_avalanche.data.synthetic import make_domain  # noqa: E402
from fer_avalanche.errors import ConfigError  # noqa: E402
from fer_avalanche.experiment.specs import load_dataset_spec, load_scenario_datasets  # noqa: E402

#: images per expression code in JAFFE (213 in all), as in the real release
JAFFE_CLASSES = {"AN": 30, "DI": 29, "FE": 32, "HA": 31, "NE": 30, "SA": 31, "SU": 30}


def _load(spec: DatasetSpec, **kw):
    return load_dataset_spec(spec, label_space="basic7", image_size=48, cache_dir=None, **kw)


@pytest.fixture(scope="module")
def jaffe213(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JAFFE folder with the real release's 213 files (tiny images) and class sizes."""
    root = tmp_path_factory.mktemp("jaffe213") / "jaffe"
    subjects = ["KA", "KL", "KM", "KR", "MK", "NA", "NM", "TM", "UY", "YM"]
    n = 0
    for code, count in JAFFE_CLASSES.items():
        for i in range(count):
            write_image(root / f"{subjects[i % 10]}.{code}{1 + i // 10}.{n}.tiff", size=(16, 16), seed=n)
            n += 1
    return root


def test_counts_give_the_papers_jaffe_split_exactly(jaffe213: Path, tmp_path: Path) -> None:
    spec = DatasetSpec(
        name="jaffe",
        format="jaffe",
        root=str(jaffe213),
        face_crop="center",
        split=SplitSpec(method="fractions", counts=[131, 15, 67], seed=0),
    )
    spec.validate("targets.0")
    data = load_dataset_spec(spec, label_space="basic7", image_size=48, cache_dir=tmp_path)
    assert len(data) == 213 and data.name == "jaffe"
    assert data.counts() == {"train": 131, "val": 15, "test": 67}
    for c in range(7):  # stratified: each class's train and test shares within one image
        n_c = int((data.labels == c).sum())
        per = torch.bincount(data.split[data.labels == c], minlength=3).tolist()
        assert abs(per[0] - 131 * n_c / 213) < 1 and abs(per[2] - 67 * n_c / 213) < 1, (c, per)
    assert data.provenance["split_settings"]["counts"] == [131, 15, 67]
    for seed in range(1, 4):
        other = _load(
            DatasetSpec(**{**spec.__dict__, "split": SplitSpec("fractions", counts=[131, 15, 67], seed=seed)})
        )
        assert other.counts() == {"train": 131, "val": 15, "test": 67}
    # what the paper's fractions give instead (the reason for counts)
    fractions = _load(DatasetSpec(**{**spec.__dict__, "split": SplitSpec("fractions", [0.615, 0.07, 0.315])}))
    assert fractions.counts() != {"train": 131, "val": 15, "test": 67}


def test_run_seed_and_all_folds_are_resolved() -> None:
    spec = DatasetSpec(name="lab", domain="lab-c", n=300, split=SplitSpec(method="fractions", seed="run"))
    a, b = _load(spec, run_seed=0), _load(spec, run_seed=1)
    assert not torch.equal(a.split, b.split)
    assert torch.equal(
        b.split, _load(DatasetSpec(**{**spec.__dict__, "split": SplitSpec("fractions", seed=1)})).split
    )
    assert a.provenance["split_settings"]["seed"] == 0 and b.provenance["split_settings"]["seed"] == 1
    kfold = SplitSpec(method="kfold", k=5, folds="all", seed="run")
    assert kfold.fold_indices() == [0, 1, 2, 3, 4] and SplitSpec().fold_indices() == [None]
    spec = DatasetSpec(name="lab", domain="lab-c", n=300, split=kfold)
    with pytest.raises(ConfigError, match=r'split.folds = "all" needs the fold to load \(0..4\), got None'):
        _load(spec)
    loaded = [_load(spec, fold=f) for f in range(5)]
    tests = [set(d.subjects[d.split == 2].tolist()) for d in loaded]
    assert [d.provenance["split_settings"]["fold"] for d in loaded] == [0, 1, 2, 3, 4]
    assert all(tests) and sum(len(t) for t in tests) == len(set().union(*tests)) == loaded[0].num_subjects
    one = DatasetSpec(name="lab", domain="lab-c", n=300, split=SplitSpec(method="kfold", k=5, fold=3))
    assert torch.equal(_load(one, fold=1).split, _load(one).split)  # fold ignored without folds = "all"


@pytest.mark.parametrize("max_train", [20, 137, 500])
@pytest.mark.parametrize("seed", [0, 1])
def test_max_train_keeps_class_shares_within_one_sample(max_train: int, seed: int) -> None:
    data = make_domain("wild", n=1500, seed=seed)  # FER2013's unbalanced class shares (disgust 1.5%)
    capped = cap_train(data, max_train, seed=seed)
    train = data.labels[data.split == 0]
    kept = capped.labels[capped.split == 0]
    assert len(kept) == max_train
    for c in range(7):
        share = max_train * float((train == c).sum()) / len(train)
        assert abs(int((kept == c).sum()) - share) < 1, (c, int((kept == c).sum()), share)
    for split in (1, 2):  # val and test untouched
        assert torch.equal(capped.labels[capped.split == split], data.labels[data.split == split])
    assert capped.provenance["max_train"] == max_train


def test_max_train_through_a_spec_uses_the_split_seed() -> None:
    spec = DatasetSpec(
        name="w", domain="wild", n=800, max_train=100, split=SplitSpec("fractions", seed="run")
    )
    a, b = _load(spec, run_seed=0), _load(spec, run_seed=5)
    assert a.counts()["train"] == b.counts()["train"] == 100
    assert not torch.equal(a.labels, b.labels) or not torch.equal(a.images, b.images)


def test_load_scenario_datasets_names_them_and_keeps_the_source_first() -> None:
    scenario = Scenario.demo().with_overrides(["source.n=300", "targets.0.n=100", "targets.1.n=100"])
    datasets = load_scenario_datasets(scenario, cache_dir=None, run_seed=0)
    assert [d.name for d in datasets] == ["wild", "lab-a", "lab-b"]
    assert [len(d) for d in datasets] == [300, 100, 100]


def test_counts_larger_than_the_dataset_name_it() -> None:
    spec = DatasetSpec(name="lab", domain="lab-a", n=70, split=SplitSpec("fractions", counts=[60, 5, 10]))
    with pytest.raises(
        ConfigError, match=r"dataset 'lab': split counts \[60, 5, 10\] sum to 75, more than the 70"
    ):
        _load(spec)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "split={method='fractions', counts=[131, 15]}",
            r"targets.0.split.counts: split counts must be three",
        ),
        ("split={method='fractions', counts=[131, 0, 0]}", r"targets.0.split.counts: .*test > 0"),
        (
            "split={method='subject', counts=[131, 15, 67]}",
            r"targets.0.split.counts: exact sizes apply to method",
        ),
        ("split={method='fractions', seed='first'}", r"targets.0.split.seed must be an integer or \"run\""),
        ("split={method='kfold', folds='some'}", r"targets.0.split.folds must be \"all\""),
        (
            "split={method='fractions', folds='all'}",
            r"targets.0.split.folds = \"all\" needs method = 'kfold'",
        ),
        ("split={method='kfold', k=5, fold=5}", r"targets.0.split: need k >= 2 and 0 <= fold < k"),
        ("face_crop='detector'", r"targets.0.face_crop must be one of none, center, detect, auto"),
        ("face_margin=9.0", r"targets.0.face_margin must be in"),
        ("detect_fallback='drop'", r"targets.0.detect_fallback must be one of center, skip"),
    ],
)
def test_split_and_framing_settings_are_checked_naming_the_key(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Scenario.demo().with_overrides([f"targets.0.{override}"])


def test_split_spec_round_trips_through_toml() -> None:
    from fer_avalanche.config import scenario_to_toml

    scenario = Scenario.demo().with_overrides(
        [
            "targets.0.split={method='fractions', counts=[10, 2, 5], seed='run'}",
            "targets.1.split={method='kfold', k=3, folds='all'}",
        ]
    )
    text = scenario_to_toml(scenario)
    assert 'seed = "run"' in text and "counts = [10, 2, 5]" in text and 'folds = "all"' in text
    import tomllib

    again = Scenario.from_dict(tomllib.loads(text))
    assert again.targets[0].split == scenario.targets[0].split and again.targets[1].split.fold_indices() == [
        0,
        1,
        2,
    ]
    assert np.array_equal(again.targets[0].split.counts, [10, 2, 5])
