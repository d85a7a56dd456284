"""Seeded re-splitting of a FERData: image-level fractions or exact counts, subject holdout and k-fold.

The paper splits the small posed datasets by image (``split_by_fractions``, or ``split_by_counts``
for the exact sizes of its Table I), so one person can be in train and test; ``split_by_subject`` and
``subject_kfold`` keep every subject in one split, the usual protocol for CK+ and the honest one for
JAFFE. Every function returns a new FERData whose provenance records the split method, so a run states
which split it used.

**Groups.** When the data knows its groups (``FERData.groups``: the frames of one CK+ sequence, of one
MUG take), every method keeps a group inside one split, so near-identical frames never sit on both
sides of a train/test boundary:

- image-level splits (fractions, counts) assign whole groups. Each group counts for the class most of
  its frames show; per class, the groups are shuffled with the seed and laid end to end, and a group
  goes to the split in which its middle frame falls. So each class's split sizes miss their targets
  by at most half a group per boundary (exact when every group is one image, which is also exactly
  the group-free behaviour). ``counts`` then moves or swaps whole groups between splits until the
  totals are exact; when the group sizes make that impossible it warns and says what it got.
- subject splits (holdout, k-fold) join subjects that share a group (they never do in CK+ or MUG,
  where a group lies inside a subject).

Rounding: the per-class targets of ``fractions`` use the largest remainder within each class (a class
with at least three images reaches train and test); those of ``counts`` are a controlled rounding of
``class size x count / total`` whose rows sum to the class sizes and whose columns sum to the counts.

Example:
    >>> from fer_avalanche.data.synthetic import make_domain
    >>> data = make_domain("lab-a", n=213, seed=0)
    >>> paper = split_by_counts(data, (131, 15, 67), seed=1)
    >>> paper.counts()
    {'train': 131, 'val': 15, 'test': 67}
    >>> by_subject = split_by_subject(data, (0.7, 0.1, 0.2), seed=1)
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from fer_avalanche.checks import is_int
from fer_avalanche.data.split_names import SPLITS, TEST, TRAIN, VAL
from fer_avalanche.errors import ConfigError, DatasetError

if TYPE_CHECKING:  # splits never imports ferdata at run time (ferdata imports splits)
    from fer_avalanche.data.ferdata import FERData

__all__ = [
    "split_by_fractions",
    "split_by_counts",
    "split_by_subject",
    "subject_kfold",
    "check_fractions",
    "check_counts",
    "apply_split",
    "cap_train",
    "groups_across_splits",
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


def check_counts(counts: Sequence[int]) -> np.ndarray:
    """Validate ``(train, val, test)`` sizes: three integers >= 0 with train > 0 and test > 0.

    Example:
        >>> check_counts([131, 15, 67]).tolist()
        [131, 15, 67]
    """
    values = list(counts)
    if (
        len(values) != 3
        or any(not is_int(v) for v in values)
        or min(values) < 0
        or values[0] == 0
        or values[2] == 0
    ):
        raise ConfigError(
            f"split counts must be three integers (train, val, test) >= 0 with train > 0 and test > 0, "
            f"got {values}"
        )
    return np.asarray(values, dtype=np.int64)


def _allocate(n: int, f: np.ndarray) -> np.ndarray:
    """Split ``n`` items into counts proportional to ``f`` (largest remainder)."""
    raw = f * n
    counts = np.floor(raw).astype(np.int64)
    for i in np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]:
        counts[i] += 1
    return counts


# ------------------------------------------------------------------ units
def _units(data: FERData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The units an image-level split assigns whole: groups when known, else single images.

    Returns ``unit`` (per sample, ``0..U-1``), the size of each unit and each unit's class (the label
    most of its samples carry; the smallest on a tie).
    """
    labels = data.labels.numpy()
    if data.groups is None:
        return np.arange(len(labels)), np.ones(len(labels), dtype=np.int64), labels.copy()
    _, unit = np.unique(data.groups.numpy(), return_inverse=True)
    n_units, k = int(unit.max()) + 1, data.num_classes
    votes = np.bincount(unit * k + labels, minlength=n_units * k).reshape(n_units, k)
    return unit, votes.sum(axis=1), votes.argmax(axis=1)


def _cut(order: np.ndarray, sizes: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Columns of the units ``order`` laid end to end: a unit goes where its middle sample falls.

    With units of one sample this is "the first ``targets[0]`` to column 0, the next ``targets[1]`` to
    column 1, ...".
    """
    size = sizes[order].astype(np.float64)
    middle = np.cumsum(size) - size / 2.0
    columns = np.searchsorted(np.cumsum(targets), middle, side="right")
    return np.minimum(columns, len(targets) - 1)


def _controlled_rounding(rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Integer matrix close to ``rows x columns / total`` whose row and column sums are exact."""
    raw = rows[:, None].astype(np.float64) * columns[None, :] / max(1, int(rows.sum()))
    table = np.floor(raw).astype(np.int64)
    row_left, col_left = rows - table.sum(axis=1), columns - table.sum(axis=0)
    while row_left.sum() > 0:
        open_cells = (row_left > 0)[:, None] & (col_left > 0)[None, :]
        residual = np.where(open_cells, raw - table, -np.inf)
        r, c = np.unravel_index(int(np.argmax(residual)), residual.shape)
        table[r, c] += 1
        row_left[r] -= 1
        col_left[c] -= 1
    return table


def _assign(
    unit_class: np.ndarray, sizes: np.ndarray, targets: dict[int, np.ndarray], rng: np.random.Generator
) -> np.ndarray:
    """Column of every unit: per class (ascending), shuffle its units and cut them by its targets."""
    column = np.zeros(len(sizes), dtype=np.int64)
    for c, target in targets.items():
        members = np.flatnonzero(unit_class == c) if c >= 0 else np.arange(len(sizes))
        order = rng.permutation(members)
        column[order] = _cut(order, sizes, target)
    return column


def _repair(
    column: np.ndarray, sizes: np.ndarray, unit_class: np.ndarray, goal: np.ndarray, table: np.ndarray
) -> np.ndarray:
    """Move or swap whole units between columns until every column holds ``goal`` samples (if possible).

    A move takes a unit no larger than both the surplus of its column and the shortfall of the other;
    a swap exchanges two units whose size difference fits. Units of the class most over its per-class
    target (``table``) in the giving column go first, so stratification suffers least.
    """
    column = column.copy()
    k = int(unit_class.max()) + 1 if len(unit_class) else 1
    while True:
        totals = np.bincount(column, weights=sizes, minlength=len(goal)).astype(np.int64)
        excess = totals - goal
        if not excess.any():
            return column
        per_class = np.zeros((k, len(goal)), dtype=np.int64)
        np.add.at(per_class, (unit_class, column), sizes)
        over = per_class - table[:k]
        step = None
        for s in np.argsort(-excess, kind="stable"):
            for t in np.argsort(excess, kind="stable"):
                if excess[s] <= 0 or excess[t] >= 0:
                    continue
                step = _find_step(column, sizes, unit_class, over, int(s), int(t), min(excess[s], -excess[t]))
                if step is not None:
                    break
            if step is not None:
                break
        if step is None:
            return column
        for unit, target in step:
            column[unit] = target


def _find_step(
    column: np.ndarray,
    sizes: np.ndarray,
    unit_class: np.ndarray,
    over: np.ndarray,
    s: int,
    t: int,
    bound: int,
) -> list[tuple[int, int]] | None:
    """One move (a unit from ``s`` to ``t``) or swap that shrinks both errors, or ``None``."""
    in_s = np.flatnonzero(column == s)
    fits = in_s[sizes[in_s] <= bound]
    if len(fits):
        gain = over[unit_class[fits], s] - over[unit_class[fits], t]
        best = fits[np.lexsort((-sizes[fits], -gain))[0]]
        return [(int(best), t)]
    in_t = np.flatnonzero(column == t)
    if not len(in_s) or not len(in_t):
        return None
    diff = sizes[in_s][:, None] - sizes[in_t][None, :]
    ok = (diff > 0) & (diff <= bound)
    if not ok.any():
        return None
    same = unit_class[in_s][:, None] == unit_class[in_t][None, :]
    choice = np.flatnonzero((ok & same).ravel()) if (ok & same).any() else np.flatnonzero(ok.ravel())
    i, j = np.unravel_index(int(choice[0]), diff.shape)
    return [(int(in_s[i]), t), (int(in_t[j]), s)]


def _method_suffix(data: FERData, stratify: bool) -> str:
    return (" stratified" if stratify else "") + (" group-aware" if data.groups is not None else "")


# --------------------------------------------------------- image-level
def split_by_fractions(
    data: FERData, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0, stratify: bool = True
) -> FERData:
    """Image-level split by ``(train, val, test)`` fractions, stratified by class when ``stratify``.

    Each class is shuffled with ``seed`` and cut by the fractions (largest remainder rounding), so a
    class with at least three samples appears in train and test. With groups, whole groups are cut
    (see the module docstring): a group never spans two splits.
    """
    f = check_fractions(fractions)
    rng = np.random.default_rng(seed)
    unit, sizes, unit_class = _units(data)
    if stratify:
        totals = np.bincount(unit_class, weights=sizes).astype(np.int64)
        targets = {int(c): _allocate(int(totals[c]), f) for c in np.unique(unit_class)}
    else:
        targets = {-1: _allocate(int(sizes.sum()), f)}
    column = _assign(unit_class, sizes, targets, rng)
    method = f"fractions{tuple(float(x) for x in f)} seed={seed}{_method_suffix(data, stratify)}"
    return data.with_split(torch.from_numpy(column[unit]), method)


def split_by_counts(data: FERData, counts: Sequence[int], seed: int = 0, stratify: bool = True) -> FERData:
    """Image-level split into exactly ``counts = (train, val, test)`` images, seeded and stratified.

    The paper's Table I sizes (JAFFE 131 / 15 / 67) come out exactly. When the counts sum to less than
    the dataset, the rest is left out (stratified too) and a warning says how many; more than the
    dataset is a :class:`~fer_avalanche.errors.ConfigError`. With groups, whole groups are assigned
    and then moved between splits until the sizes are exact; if the group sizes make an exact split
    impossible, a warning gives the sizes obtained.

    Example:
        >>> from fer_avalanche.data.synthetic import make_domain
        >>> split_by_counts(make_domain("lab-b", n=100), (60, 10, 30)).counts()
        {'train': 60, 'val': 10, 'test': 30}
    """
    goal = check_counts(counts)
    n = len(data)
    if int(goal.sum()) > n:
        raise ConfigError(
            f"split counts {goal.tolist()} sum to {int(goal.sum())}, more than the {n} samples of "
            f"dataset {data.name!r}"
        )
    spare = n - int(goal.sum())
    goal4 = np.append(goal, spare) if spare else goal
    rng = np.random.default_rng(seed)
    unit, sizes, unit_class = _units(data)
    k = data.num_classes
    if stratify:
        totals = np.bincount(unit_class, weights=sizes, minlength=k).astype(np.int64)
        table = _controlled_rounding(totals, goal4)
        targets = {int(c): table[c] for c in np.unique(unit_class)}
    else:
        table = np.zeros((k, len(goal4)), dtype=np.int64)
        targets = {-1: goal4}
    column = _assign(unit_class, sizes, targets, rng)
    if data.groups is not None:
        column = _repair(column, sizes, unit_class, goal4, table)
    per_sample = column[unit]
    got = np.bincount(per_sample, minlength=len(goal4))[:3]
    method = f"counts{tuple(goal.tolist())} seed={seed}{_method_suffix(data, stratify)}"
    if not np.array_equal(got, goal):
        warnings.warn(
            f"split.counts {goal.tolist()} cannot be met exactly with whole groups of dataset "
            f"{data.name!r} (group sizes {sorted(set(sizes.tolist()))}); got {got.tolist()}",
            stacklevel=2,
        )
    out = data.with_split(torch.from_numpy(np.minimum(per_sample, TEST)), method)
    if spare:
        kept = per_sample < 3
        left = int((~kept).sum())
        warnings.warn(
            f"split.counts {goal.tolist()} uses {n - left} of the {n} samples of dataset {data.name!r}; "
            f"{left} are left out",
            stacklevel=2,
        )
        out = out.subset(torch.from_numpy(kept))
        out.provenance["left_out_by_counts"] = left
    return out


# --------------------------------------------------------- subject-level
def _blocks(data: FERData) -> tuple[np.ndarray, int]:
    """Per sample, the subject that stands for its subject block (subjects joined by shared groups)
    and how many subjects were joined to another; the subjects themselves when no group is shared."""
    subjects = data.subjects.numpy()  # type: ignore[union-attr]
    if data.groups is None:
        return subjects, 0
    parent = {int(s): int(s) for s in np.unique(subjects)}

    def root(s: int) -> int:
        while parent[s] != s:
            parent[s] = parent[parent[s]]
            s = parent[s]
        return s

    groups = data.groups.numpy()
    order = np.argsort(groups, kind="stable")
    g_sorted, s_sorted = groups[order], subjects[order]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    for members in np.split(s_sorted, starts[1:]):
        first = root(int(members[0]))
        for s in np.unique(members[1:]):
            other = root(int(s))
            if other != first:
                lo, hi = min(first, other), max(first, other)
                parent[hi] = lo
                first = lo
    blocks = np.array([root(int(s)) for s in subjects], dtype=np.int64)
    return blocks, len(parent) - len(np.unique(blocks))


def _require_subjects(data: FERData, minimum: int) -> tuple[np.ndarray, np.ndarray, int]:
    if data.subjects is None:
        raise DatasetError(
            f"dataset {data.name!r} has no subject ids, so it cannot be split by subject; "
            "use an image-level split (split_by_fractions) instead"
        )
    blocks, joined = _blocks(data)
    subjects = np.unique(blocks)
    if len(subjects) < minimum:
        raise DatasetError(
            f"dataset {data.name!r} has {len(subjects)} subjects"
            + (f" ({joined} joined to others by shared groups)" if joined else "")
            + f"; a subject-independent split needs at least {minimum}"
        )
    return subjects, blocks, joined


def _with_joined(out: FERData, joined: int) -> FERData:
    if joined:
        out.provenance["subjects_joined_by_groups"] = joined
    return out


def split_by_subject(data: FERData, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0) -> FERData:
    """Subject-independent holdout: subjects (not images) are shuffled and cut by the fractions.

    Fractions apply to subjects; every split that gets a positive fraction receives at least one
    subject when there are enough subjects.
    """
    f = check_fractions(fractions)
    subjects, blocks, joined = _require_subjects(data, int((f > 0).sum()))
    order = np.random.default_rng(seed).permutation(subjects)
    counts = _allocate(len(order), f)
    for i in np.flatnonzero((counts == 0) & (f > 0)):  # never leave a requested split empty
        donor = int(np.argmax(counts))
        counts[donor] -= 1
        counts[i] += 1
    assignment = dict(zip(order.tolist(), np.repeat(np.arange(3), counts).tolist(), strict=True))
    split = torch.tensor([assignment[s] for s in blocks.tolist()], dtype=torch.long)
    out = data.with_split(split, f"subject-holdout{tuple(float(x) for x in f)} seed={seed}")
    return _with_joined(out, joined)


def subject_kfold(data: FERData, k: int, fold: int, seed: int = 0, val_fraction: float = 0.0) -> FERData:
    """Fold ``fold`` of a subject-independent ``k``-fold split (the CK+ protocol).

    The subjects are shuffled with ``seed`` and dealt into ``k`` folds; fold ``fold`` is the test
    split, and ``val_fraction`` of the remaining subjects (at least one when positive) form the
    validation split.
    """
    if not is_int(k) or k < 2:
        raise ConfigError(f"k-fold needs k >= 2, got {k!r}")
    if not is_int(fold) or not 0 <= fold < k:
        raise ConfigError(f"fold must be in 0..{k - 1}, got {fold!r}")
    subjects, blocks, joined = _require_subjects(data, k)
    order = np.random.default_rng(seed).permutation(subjects)
    folds = np.array_split(order, k)
    test = set(folds[fold].tolist())
    rest = [s for s in order.tolist() if s not in test]
    n_val = max(1, round(val_fraction * len(rest))) if val_fraction > 0 else 0
    val = set(rest[:n_val])
    code = {s: (TEST if s in test else VAL if s in val else TRAIN) for s in order.tolist()}
    split = torch.tensor([code[s] for s in blocks.tolist()], dtype=torch.long)
    out = data.with_split(split, f"subject-kfold k={k} fold={fold} seed={seed} val={val_fraction}")
    return _with_joined(out, joined)


def groups_across_splits(data: FERData) -> int:
    """How many groups have samples in more than one split (0 without groups).

    Example:
        >>> from fer_avalanche.data.synthetic import make_domain
        >>> groups_across_splits(make_domain("lab-a", n=70))
        0
    """
    if data.groups is None:
        return 0
    pairs = torch.unique(torch.stack([data.groups, data.split]), dim=1)
    return int((torch.bincount(torch.unique(pairs[0], return_inverse=True)[1]) > 1).sum())


#: Split methods accepted by :func:`apply_split` (and by scenario files' ``split`` tables).
SPLIT_METHODS = ("official", "fractions", "subject", "kfold")


def apply_split(
    data: FERData,
    method: str = "official",
    *,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    counts: Sequence[int] | None = None,
    seed: int = 0,
    k: int = 10,
    fold: int = 0,
    folds: str | None = None,
    val_fraction: float = 0.1,
    stratify: bool = True,
) -> FERData:
    """Apply a split by name: the one scenario files and the runner use.

    - ``official``: keep the split the loader assigned (the dataset's own, e.g. FER2013 ``Usage``);
      a dataset without one (all samples in train) is an error naming the alternatives; groups that
      the official split puts on two sides are counted and warned about.
    - ``fractions``: :func:`split_by_fractions` (the paper's image-level protocol), or
      :func:`split_by_counts` when ``counts`` is given (exact sizes).
    - ``subject``: :func:`split_by_subject` (subject-independent holdout).
    - ``kfold``: :func:`subject_kfold` fold ``fold`` of ``k``.

    ``seed`` must be an int here and ``folds`` unset or resolved: a scenario's ``seed = "run"`` and
    ``folds = "all"`` are resolved by :func:`fer_avalanche.experiment.specs.load_dataset_spec`.
    """
    if not is_int(seed):
        raise ConfigError(
            f'split.seed must be an integer here, got {seed!r} (a scenario\'s seed = "run" is resolved '
            "by fer_avalanche.experiment.specs.load_dataset_spec(run_seed=...))"
        )
    if folds is not None:
        raise ConfigError(
            f"split.folds = {folds!r} must be resolved to one fold first "
            "(fer_avalanche.experiment.specs.load_dataset_spec(fold=...) does it)"
        )
    if counts is not None and method != "fractions":
        raise ConfigError(f"split.counts applies to method 'fractions' (image-level), not {method!r}")
    if method == "official":
        per = data.counts()
        if per["test"] == 0 or per["train"] == 0:
            raise ConfigError(
                f"dataset {data.name!r} has no official train/test split (found {per}); "
                "set split.method to 'fractions', 'subject' or 'kfold'"
            )
        across = groups_across_splits(data)
        if across:
            warnings.warn(
                f"dataset {data.name!r}: its official split puts {across} groups in more than one split",
                stacklevel=2,
            )
            data = dataclasses.replace(data, provenance={**data.provenance, "groups_across_splits": across})
        return data
    if method == "fractions":
        if counts is not None:
            return split_by_counts(data, counts, seed=int(seed), stratify=stratify)
        return split_by_fractions(data, fractions, seed=int(seed), stratify=stratify)
    if method == "subject":
        return split_by_subject(data, fractions, seed=int(seed))
    if method == "kfold":
        return subject_kfold(data, k, fold, seed=int(seed), val_fraction=val_fraction)
    raise ConfigError(f"unknown split method {method!r}; expected one of {', '.join(SPLIT_METHODS)}")


def cap_train(data: FERData, max_train: int, seed: int = 0) -> FERData:
    """Keep at most ``max_train`` training samples, stratified: each class keeps its share of train
    within one sample (largest remainder), the samples drawn with ``seed``; val and test are untouched.

    Example:
        >>> from fer_avalanche.data.synthetic import make_domain
        >>> capped = cap_train(make_domain("wild", n=1000), 100)
        >>> capped.counts()["train"]
        100
    """
    if not is_int(max_train) or max_train < 1:
        raise ConfigError(f"max_train must be an integer >= 1, got {max_train!r}")
    train = data.split_mask(SPLITS[TRAIN]).nonzero().flatten().numpy()
    if len(train) <= max_train:
        return data
    labels = data.labels.numpy()[train]
    classes, sizes = np.unique(labels, return_counts=True)
    quota = _allocate(max_train, sizes / sizes.sum())
    rng = np.random.default_rng(seed)
    keep = [
        rng.choice(train[labels == c], int(q), replace=False) for c, q in zip(classes, quota, strict=True)
    ]
    mask = ~data.split_mask(SPLITS[TRAIN])
    mask[torch.from_numpy(np.concatenate(keep))] = True
    capped = data.subset(mask)
    capped.provenance["max_train"] = max_train
    capped.provenance["max_train_rule"] = "stratified: every class keeps its share of train within one sample"
    return capped
