"""Seeded re-splitting of a FERData: image-level fractions, subject-independent holdout and k-fold.

The paper splits the small posed datasets by image (``split_by_fractions``), so one person can be in
train and test; ``split_by_subject`` and ``subject_kfold`` keep every subject in one split, the usual
protocol for CK+ and the honest one for JAFFE. Every function returns a new FERData whose provenance
records the split method, so a run states which split it used.

Example:
    >>> from fer_avalanche.data.synthetic import make_domain
    >>> data = make_domain("lab-a", n=300, seed=0)
    >>> paper = split_by_fractions(data, (0.615, 0.07, 0.315), seed=1)
    >>> by_subject = split_by_subject(data, (0.7, 0.1, 0.2), seed=1)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from fer_avalanche.data.ferdata import SPLITS, FERData
from fer_avalanche.errors import ConfigError, DatasetError

__all__ = [
    "split_by_fractions",
    "split_by_subject",
    "subject_kfold",
    "check_fractions",
    "apply_split",
    "SPLIT_METHODS",
]


def check_fractions(fractions: Sequence[float]) -> np.ndarray:
    """Validate ``(train, val, test)`` fractions: three non-negative numbers summing to 1."""
    f = np.asarray(list(fractions), dtype=np.float64)
    if f.shape != (3,) or (f < 0).any() or abs(f.sum() - 1.0) > 1e-6 or f[0] == 0 or f[2] == 0:
        raise ConfigError(
            f"split fractions must be three numbers (train, val, test) >= 0 summing to 1 with "
            f"train > 0 and test > 0, got {list(fractions)}"
        )
    return f


def _allocate(n: int, f: np.ndarray) -> np.ndarray:
    """Split ``n`` items into 3 counts proportional to ``f`` (largest remainder)."""
    raw = f * n
    counts = np.floor(raw).astype(np.int64)
    for i in np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]:
        counts[i] += 1
    return counts


def split_by_fractions(
    data: FERData, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0, stratify: bool = True
) -> FERData:
    """Image-level split by ``(train, val, test)`` fractions, stratified by class when ``stratify``.

    Each class is shuffled with ``seed`` and cut by the fractions (largest remainder rounding), so a
    class with at least three samples appears in train and test.
    """
    f = check_fractions(fractions)
    rng = np.random.default_rng(seed)
    labels = data.labels.numpy()
    split = np.empty(len(data), dtype=np.int64)
    groups = [np.flatnonzero(labels == c) for c in np.unique(labels)] if stratify else [np.arange(len(data))]
    for idx in groups:
        idx = rng.permutation(idx)
        counts = _allocate(len(idx), f)
        split[idx] = np.repeat(np.arange(3), counts)
    method = f"fractions{tuple(float(x) for x in f)} seed={seed}{' stratified' if stratify else ''}"
    return data.with_split(torch.from_numpy(split), method)


def _require_subjects(data: FERData, minimum: int) -> np.ndarray:
    if data.subjects is None:
        raise DatasetError(
            f"dataset {data.name!r} has no subject ids, so it cannot be split by subject; "
            "use an image-level split (split_by_fractions) instead"
        )
    subjects = np.unique(data.subjects.numpy())
    if len(subjects) < minimum:
        raise DatasetError(
            f"dataset {data.name!r} has {len(subjects)} subjects; a subject-independent split "
            f"needs at least {minimum}"
        )
    return subjects


def split_by_subject(data: FERData, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0) -> FERData:
    """Subject-independent holdout: subjects (not images) are shuffled and cut by the fractions.

    Fractions apply to subjects; every split that gets a positive fraction receives at least one
    subject when there are enough subjects.
    """
    f = check_fractions(fractions)
    subjects = _require_subjects(data, int((f > 0).sum()))
    order = np.random.default_rng(seed).permutation(subjects)
    counts = _allocate(len(order), f)
    for i in np.flatnonzero((counts == 0) & (f > 0)):  # never leave a requested split empty
        donor = int(np.argmax(counts))
        counts[donor] -= 1
        counts[i] += 1
    assignment = dict(zip(order.tolist(), np.repeat(np.arange(3), counts).tolist(), strict=True))
    split = torch.tensor([assignment[s] for s in data.subjects.tolist()], dtype=torch.long)
    return data.with_split(split, f"subject-holdout{tuple(float(x) for x in f)} seed={seed}")


def subject_kfold(data: FERData, k: int, fold: int, seed: int = 0, val_fraction: float = 0.0) -> FERData:
    """Fold ``fold`` of a subject-independent ``k``-fold split (the CK+ protocol).

    The subjects are shuffled with ``seed`` and dealt into ``k`` folds; fold ``fold`` is the test
    split, and ``val_fraction`` of the remaining subjects (at least one when positive) form the
    validation split.
    """
    if not isinstance(k, int) or k < 2:
        raise ConfigError(f"k-fold needs k >= 2, got {k!r}")
    if not isinstance(fold, int) or not 0 <= fold < k:
        raise ConfigError(f"fold must be in 0..{k - 1}, got {fold!r}")
    subjects = _require_subjects(data, k)
    order = np.random.default_rng(seed).permutation(subjects)
    folds = np.array_split(order, k)
    test = set(folds[fold].tolist())
    rest = [s for s in order.tolist() if s not in test]
    n_val = max(1, round(val_fraction * len(rest))) if val_fraction > 0 else 0
    val = set(rest[:n_val])
    code = {
        s: (SPLITS.index("test") if s in test else SPLITS.index("val") if s in val else 0)
        for s in order.tolist()
    }
    split = torch.tensor([code[s] for s in data.subjects.tolist()], dtype=torch.long)
    return data.with_split(split, f"subject-kfold k={k} fold={fold} seed={seed} val={val_fraction}")


#: Split methods accepted by :func:`apply_split` (and by scenario files' ``split`` tables).
SPLIT_METHODS = ("official", "fractions", "subject", "kfold")


def apply_split(
    data: FERData,
    method: str = "official",
    *,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    k: int = 10,
    fold: int = 0,
    val_fraction: float = 0.1,
    stratify: bool = True,
) -> FERData:
    """Apply a split by name: the one scenario files and the runner use.

    - ``official``: keep the split the loader assigned (the dataset's own, e.g. FER2013 ``Usage``);
      a dataset without one (all samples in train) is an error naming the alternatives.
    - ``fractions``: :func:`split_by_fractions` (the paper's image-level protocol).
    - ``subject``: :func:`split_by_subject` (subject-independent holdout).
    - ``kfold``: :func:`subject_kfold` fold ``fold`` of ``k``.
    """
    if method == "official":
        counts = data.counts()
        if counts["test"] == 0 or counts["train"] == 0:
            raise ConfigError(
                f"dataset {data.name!r} has no official train/test split (found {counts}); "
                "set split.method to 'fractions', 'subject' or 'kfold'"
            )
        return data
    if method == "fractions":
        return split_by_fractions(data, fractions, seed=seed, stratify=stratify)
    if method == "subject":
        return split_by_subject(data, fractions, seed=seed)
    if method == "kfold":
        return subject_kfold(data, k, fold, seed=seed, val_fraction=val_fraction)
    raise ConfigError(f"unknown split method {method!r}; expected one of {', '.join(SPLIT_METHODS)}")
