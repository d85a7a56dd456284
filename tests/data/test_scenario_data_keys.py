"""Every data-side scenario key, set the way a user sets it (``--set``), followed into the loaded data.

Each test sets one key of a dataset entry (or the scenario's ``label_space`` / ``image_size``) on the
demo scenario, loads the scenario's datasets as a run does (:func:`load_scenario_datasets`) and checks
the key's effect on the FERData: its images, labels, subjects, split column or provenance. Each one
fails when the key is dropped on its way to the data (docs/testing.md has the table of keys).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent / "formats"))
from fixtures import crop_of, write_ckplus_official, write_image  # noqa: E402

from fer_avalanche.config import Scenario  # noqa: E402
from fer_avalanche.data.imageio import opencv_available  # noqa: E402
from fer_avalanche.data.registry import load_dataset  # noqa: E402
from fer_avalanche.data.splits import split_by_fractions, split_by_subject, subject_kfold  # noqa: E402
from fer_avalanche.data.synthetic import make_domain  # noqa: E402
from fer_avalanche.errors import DatasetError  # noqa: E402
from fer_avalanche.experiment.specs import load_scenario_datasets  # noqa: E402

CODES = ("AN", "DI", "FE", "HA", "NE", "SA", "SU")
SUBJECTS = ("KA", "KL", "KM", "KR", "MK", "NA")


@pytest.fixture(scope="module")
def jaffe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JAFFE folder: 6 subjects x 7 expressions x 2 takes = 84 frames of 32 x 40 (not square)."""
    root = tmp_path_factory.mktemp("keys") / "jaffe"
    n = 0
    for subject in SUBJECTS:
        for code in CODES:
            for take in (1, 2):
                write_image(root / f"{subject}.{code}{take}.{n}.tiff", size=(32, 40), seed=n)
                n += 1
    return root


def _target(tmp_path: Path, *overrides: str, top: tuple[str, ...] = ()):
    """The first target of the demo scenario with ``overrides`` of its keys (``targets.0.``) and ``top``
    (the scenario's own keys), loaded as a run loads it."""
    base = Scenario.demo().with_overrides(["source.n=70", "targets.lab-b.n=70", *top])
    scenario = base.with_overrides([f"targets.0.{o}" for o in overrides])
    return load_scenario_datasets(scenario, cache_dir=tmp_path / "cache")[1]


def _jaffe(tmp_path: Path, root: Path, *overrides: str):
    return _target(tmp_path, "format='jaffe'", f"root='{root}'", "face_crop='none'", *overrides)


def _raw(root: Path, tmp_path: Path, **kw):
    return load_dataset("jaffe", root, cache_dir=tmp_path / "cache", face_crop="none", **kw)


# --------------------------------------------------------------------------- what is loaded
def test_format_and_root_load_that_dataset(jaffe: Path, tmp_path: Path) -> None:
    data = _jaffe(tmp_path, jaffe, "split={method='fractions'}")
    assert len(data) == 84 and data.provenance["format"] == "jaffe" and data.provenance["root"] == str(jaffe)
    assert data.num_subjects == 6


def test_name_names_the_dataset(tmp_path: Path) -> None:
    assert _target(tmp_path, "name='posed'", "domain='lab-a'", "n=70").name == "posed"


def test_domain_n_and_seed_choose_the_synthetic_draw(tmp_path: Path) -> None:
    data = _target(tmp_path, "domain='lab-c'", "n=77", "seed=3")
    expected = make_domain("lab-c", n=77, seed=3)
    assert len(data) == 77 and torch.equal(data.images, expected.images)
    assert torch.equal(data.labels, expected.labels)
    assert not torch.equal(make_domain("lab-c", n=77, seed=0).images, expected.images)


def test_options_reach_the_format_loader(tmp_path: Path) -> None:
    root = write_ckplus_official(tmp_path / "CK+", subjects=2, sequences=2, frames=5)
    common = ("format='ckplus'", f"root='{root}'", "face_crop='none'", "split={method='kfold', k=2}")
    assert len(_target(tmp_path, *common)) == 4 * 3  # peak_frames = 3 by default
    one = _target(tmp_path, *common, "options={peak_frames=1, first_frame_neutral=true}")
    assert len(one) == 4 * 2 and one.provenance["label_rule"].endswith("; first frame = neutral")
    dropped = _target(tmp_path, "domain='lab-a'", "n=70", "options={drop_classes=['fear', 'sad']}")
    assert not ({2, 4} & set(dropped.labels.tolist())) and len(dropped) == 70


# --------------------------------------------------------------------------- framing
def test_face_crop_and_face_margin_cut_the_frame(jaffe: Path, tmp_path: Path) -> None:
    first = sorted(jaffe.iterdir())[0]  # KA.AN1.0.tiff, the first sample
    split = "split={method='fractions'}"
    whole = _jaffe(tmp_path, jaffe, split)  # face_crop = 'none': the centred square of the frame
    assert np.array_equal(whole.images[0, 0].numpy(), crop_of(first, rows=(4, 36), cols=(0, 32)))
    center = _jaffe(tmp_path, jaffe, split, "face_crop='center'")  # side 24 at (4, 8)
    assert np.array_equal(center.images[0, 0].numpy(), crop_of(first, rows=(8, 32), cols=(4, 28)))
    margin = _jaffe(tmp_path, jaffe, split, "face_crop='center'", "face_margin=0.5")  # side 12 at (10, 14)
    assert np.array_equal(margin.images[0, 0].numpy(), crop_of(first, rows=(14, 26), cols=(10, 22)))
    assert margin.provenance["preprocessing"]["face_margin"] == 0.5


@pytest.mark.skipif(not opencv_available(), reason="face detection needs OpenCV (the [detect] extra)")
def test_detect_fallback_keeps_or_drops_the_faces_not_found(jaffe: Path, tmp_path: Path) -> None:
    split = "split={method='fractions'}"
    kept = _jaffe(tmp_path, jaffe, split, "face_crop='detect'", "detect_fallback='center'")
    assert len(kept) == 84 and kept.provenance["face_detection"] == {"detected": 0, "fallback": 84}
    with pytest.raises(DatasetError, match="no face detected in any"):  # noise images hold no face
        _jaffe(tmp_path, jaffe, split, "face_crop='detect'", "detect_fallback='skip'")


@pytest.mark.filterwarnings("ignore:skipping")
def test_skip_corrupt_skips_and_counts_a_corrupt_image(jaffe: Path, tmp_path: Path) -> None:
    root = tmp_path / "jaffe"
    root.mkdir()
    for path in sorted(jaffe.iterdir())[:14]:
        (root / path.name).write_bytes(path.read_bytes())
    (root / "KA.HA1.999.tiff").write_bytes(b"not an image")
    with pytest.raises(DatasetError, match=r"KA\.HA1\.999\.tiff"):
        _jaffe(tmp_path, root, "split={method='fractions'}")
    with pytest.warns(UserWarning, match="skipped 1 unreadable image"):
        data = _jaffe(tmp_path, root, "split={method='fractions'}", "skip_corrupt=true")
    assert len(data) == 14 and data.provenance["skipped"] == {"unreadable image": 1}


def test_label_space_and_image_size_of_the_scenario_reach_every_dataset(tmp_path: Path) -> None:
    root = write_ckplus_official(tmp_path / "CK+", subjects=3, sequences=1, frames=3)
    (root / "Emotion" / "S100" / "001" / "S100_001_00000003_emotion.txt").write_text("2")  # contempt
    common = ("format='ckplus'", f"root='{root}'", "face_crop='none'", "split={method='kfold', k=2}")
    with pytest.warns(UserWarning, match=r"outside basic7 \(contempt\)"):
        seven = _target(tmp_path, *common)
    eight = _target(tmp_path, *common, top=("label_space='basic8'",))
    assert len(seven) == 6 and len(eight) == 9 and eight.label_space.name == "basic8"
    assert eight.labels.tolist()[:3] == [7, 7, 7]  # contempt, basic8's eighth class
    small = _target(tmp_path, "domain='lab-a'", "n=70", top=("image_size=32",))
    assert small.image_size == (32, 32) and tuple(small.images.shape[1:]) == (1, 32, 32)


# --------------------------------------------------------------------------- split and cap
def test_split_fractions_and_seed_give_that_split(jaffe: Path, tmp_path: Path) -> None:
    data = _jaffe(tmp_path, jaffe, "split={method='fractions', fractions=[0.5, 0.25, 0.25], seed=5}")
    expected = split_by_fractions(_raw(jaffe, tmp_path), (0.5, 0.25, 0.25), seed=5)
    assert torch.equal(data.split, expected.split) and data.counts() == {"train": 42, "val": 21, "test": 21}
    other_seed = _jaffe(tmp_path, jaffe, "split={method='fractions', fractions=[0.5, 0.25, 0.25], seed=6}")
    assert not torch.equal(other_seed.split, data.split)
    assert data.provenance["split_settings"]["seed"] == 5


def test_split_counts_give_exact_sizes(jaffe: Path, tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="uses 80 of the 84 samples of dataset 'jaffe'; 4 are left out"):
        data = _jaffe(tmp_path, jaffe, "split={method='fractions', counts=[40, 10, 30]}")
    assert (
        data.counts() == {"train": 40, "val": 10, "test": 30} and data.provenance["left_out_by_counts"] == 4
    )


def test_split_method_subject_keeps_subjects_apart(jaffe: Path, tmp_path: Path) -> None:
    data = _jaffe(tmp_path, jaffe, "split={method='subject', fractions=[0.5, 0.17, 0.33], seed=2}")
    expected = split_by_subject(_raw(jaffe, tmp_path), (0.5, 0.17, 0.33), seed=2)
    assert torch.equal(data.split, expected.split)
    per_split = [set(data.subjects[data.split == s].tolist()) for s in range(3)]
    assert [len(p) for p in per_split] == [3, 1, 2] and len(set().union(*per_split)) == 6


def test_split_k_fold_and_val_fraction_choose_the_subjects(jaffe: Path, tmp_path: Path) -> None:
    data = _jaffe(tmp_path, jaffe, "split={method='kfold', k=3, fold=2, val_fraction=0.5, seed=1}")
    expected = subject_kfold(_raw(jaffe, tmp_path), 3, 2, seed=1, val_fraction=0.5)
    assert torch.equal(data.split, expected.split)
    subjects = [len(set(data.subjects[data.split == s].tolist())) for s in range(3)]
    assert subjects == [2, 2, 2]  # 6 subjects in 3 folds: 2 test, half of the other 4 for validation
    no_val = _jaffe(tmp_path, jaffe, "split={method='kfold', k=3, fold=2, val_fraction=0.0, seed=1}")
    assert no_val.counts()["val"] == 0 and torch.equal(no_val.split == 2, data.split == 2)
    other_fold = _jaffe(tmp_path, jaffe, "split={method='kfold', k=3, fold=0, val_fraction=0.5, seed=1}")
    assert not (
        set(other_fold.subjects[other_fold.split == 2].tolist())
        & set(data.subjects[data.split == 2].tolist())
    )
    six = _jaffe(tmp_path, jaffe, "split={method='kfold', k=6, fold=0, val_fraction=0.0}")
    assert len(set(six.subjects[six.split == 2].tolist())) == 1  # k reaches the fold size


def test_split_official_keeps_the_datasets_own_split(tmp_path: Path) -> None:
    data = _target(tmp_path, "domain='lab-a'", "n=70", "split={method='official'}")
    assert torch.equal(data.split, make_domain("lab-a", n=70).split)
    refit = _target(
        tmp_path, "domain='lab-a'", "n=70", "split={method='fractions', fractions=[0.6, 0.2, 0.2]}"
    )
    assert not torch.equal(refit.split, data.split)


def test_max_train_caps_the_training_split_only(jaffe: Path, tmp_path: Path) -> None:
    data = _jaffe(tmp_path, jaffe, "split={method='fractions', fractions=[0.5, 0.25, 0.25]}", "max_train=21")
    assert data.counts() == {"train": 21, "val": 21, "test": 21}
    assert sorted(torch.bincount(data.labels[data.split == 0], minlength=7).tolist()) == [3] * 7


def test_a_label_map_option_names_the_classes_of_a_folder_dataset(tmp_path: Path) -> None:
    root = tmp_path / "lab"
    write_image(root / "train" / "joy" / "S1_a.png", size=(16, 16))
    write_image(root / "train" / "gloom" / "S2_b.png", size=(16, 16), seed=1)
    write_image(root / "test" / "joy" / "S3_c.png", size=(16, 16), seed=2)
    common = ("format='folder'", f"root='{root}'", "split={method='official'}")
    data = _target(tmp_path, *common, "options={label_map={joy='happy', gloom='sad'}}")
    assert data.class_counts("test")["happy"] == 1 and data.class_counts("train")["sad"] == 1
    swapped = _target(tmp_path, *common, "options={label_map={joy='sad', gloom='happy'}}")
    assert swapped.class_counts("test")["sad"] == 1 and swapped.class_counts("train")["happy"] == 1
