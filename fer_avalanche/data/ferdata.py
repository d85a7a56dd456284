"""FERData: one facial-expression dataset held in memory as tensors.

Everything downstream of the format loaders (splits, benchmarks, training) works on this object,
never on files or PIL images. Images are ``uint8 [N, 1, H, W]`` (48x48 grey by default), labels are
``int64`` indices into a :class:`~fer_avalanche.labels.LabelSpace`, and every sample carries its split
(``train`` / ``val`` / ``test``) and, where the dataset knows them, its subject id and its group id
(the frames of one video sequence or take, which every split keeps together).

Example:
    >>> import torch
    >>> from fer_avalanche import FERData
    >>> data = FERData(
    ...     name="toy",
    ...     images=torch.zeros(4, 1, 48, 48, dtype=torch.uint8),
    ...     labels=torch.tensor([0, 3, 3, 6]),
    ...     split=torch.tensor([0, 0, 2, 2]),
    ... )
    >>> len(data), len(data.train), data.counts()["test"]
    (4, 2, 2)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from fer_avalanche.data import splits as _splits
from fer_avalanche.data.split_names import SPLITS, split_code
from fer_avalanche.errors import DatasetError
from fer_avalanche.labels import BASIC7, LabelSpace, get_label_space

__all__ = ["FERData", "SPLITS", "split_code"]


@dataclass
class FERData:
    """One FER dataset in memory: images, labels, splits, optional subjects, and where it came from.

    Attributes:
        name: dataset name used in benchmarks, logs and reports (``'fer2013'``, ``'synth-lab'``).
        images: ``uint8`` tensor ``[N, 1, H, W]``.
        labels: ``int64`` tensor ``[N]`` of indices into ``label_space``.
        split: ``int64`` tensor ``[N]``: 0 train, 1 val, 2 test (see :data:`SPLITS`).
        label_space: the label space the labels index (``basic7`` by default).
        subjects: ``int64`` tensor ``[N]`` of subject ids, or ``None`` when unknown.
        provenance: free-form facts recorded with a run (format, root, preprocessing, split method,
            files skipped and why).
        groups: ``int64`` tensor ``[N]`` of group ids, or ``None`` when unknown: samples that must stay
            in one split because they are near-duplicates (the frames of one CK+ sequence, of one MUG
            take). Every split of :mod:`fer_avalanche.data.splits` keeps a group inside one split.

    Construction validates shapes, dtypes and label range and raises
    :class:`~fer_avalanche.errors.DatasetError` naming the field that is wrong.
    """

    name: str
    images: torch.Tensor
    labels: torch.Tensor
    split: torch.Tensor
    label_space: LabelSpace = BASIC7
    subjects: torch.Tensor | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    groups: torch.Tensor | None = None

    def __post_init__(self) -> None:
        self.label_space = get_label_space(self.label_space)
        self.images = _as_tensor(self.images, "images")
        self.labels = _as_tensor(self.labels, "labels").long()
        self.split = _as_tensor(self.split, "split").long()
        if self.subjects is not None:
            self.subjects = _as_tensor(self.subjects, "subjects").long()
        if self.groups is not None:
            self.groups = _as_tensor(self.groups, "groups").long()
        self._validate()

    def _validate(self) -> None:
        where = f"dataset {self.name!r}"
        if self.images.dtype != torch.uint8 or self.images.dim() != 4 or self.images.shape[1] != 1:
            raise DatasetError(
                f"{where}: images must be uint8 [N, 1, H, W], got {self.images.dtype} "
                f"{list(self.images.shape)}"
            )
        n = self.images.shape[0]
        if n == 0:
            raise DatasetError(f"{where}: no samples")
        for fname in ("labels", "split", "subjects", "groups"):
            value = getattr(self, fname)
            if value is not None and value.shape != (n,):
                raise DatasetError(
                    f"{where}: {fname} must have shape [{n}] (one per image), got {list(value.shape)}"
                )
        k = self.label_space.num_classes
        if int(self.labels.min()) < 0 or int(self.labels.max()) >= k:
            bad = self.labels[(self.labels < 0) | (self.labels >= k)][0].item()
            raise DatasetError(
                f"{where}: label {bad} out of range for label space {self.label_space.name!r} "
                f"(expected 0..{k - 1})"
            )
        if int(self.split.min()) < 0 or int(self.split.max()) >= len(SPLITS):
            raise DatasetError(f"{where}: split codes must be 0 (train), 1 (val) or 2 (test)")

    # ------------------------------------------------------------------ views
    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def image_size(self) -> tuple[int, int]:
        """``(H, W)`` of the images."""
        return int(self.images.shape[2]), int(self.images.shape[3])

    @property
    def num_classes(self) -> int:
        """Number of classes of the label space (not only those present)."""
        return self.label_space.num_classes

    def subset(self, index: torch.Tensor | Sequence[int] | np.ndarray, name: str | None = None) -> FERData:
        """A new FERData with the samples selected by a boolean mask or an index array."""
        index = torch.as_tensor(index)
        if index.dtype == torch.bool:
            index = index.nonzero().flatten()
        return dataclasses.replace(
            self,
            name=name or self.name,
            images=self.images[index],
            labels=self.labels[index],
            split=self.split[index],
            subjects=None if self.subjects is None else self.subjects[index],
            groups=None if self.groups is None else self.groups[index],
            provenance=dict(self.provenance),
        )

    def split_mask(self, split: str) -> torch.Tensor:
        """Boolean mask of the samples in ``split`` (``'train'``, ``'val'`` or ``'test'``)."""
        return self.split == split_code(split)

    def get_split(self, split: str) -> FERData:
        """The samples of one split as a FERData (may raise if the split is empty)."""
        mask = self.split_mask(split)
        if not bool(mask.any()):
            raise DatasetError(
                f"dataset {self.name!r} has no {split!r} samples (splits present: "
                f"{', '.join(s for s, c in self.counts().items() if c) or 'none'}); "
                "re-split it with resplit_fractions() or resplit_by_subject()"
            )
        return self.subset(mask)

    @property
    def train(self) -> FERData:
        """The training split."""
        return self.get_split("train")

    @property
    def val(self) -> FERData:
        """The validation split."""
        return self.get_split("val")

    @property
    def test(self) -> FERData:
        """The test split."""
        return self.get_split("test")

    def with_split(self, split: torch.Tensor, method: str) -> FERData:
        """A copy with a new split assignment, recording ``method`` in the provenance."""
        provenance = dict(self.provenance, split=method)
        return dataclasses.replace(self, split=split, provenance=provenance)

    # ---------------------------------------------------------------- splits
    def resplit_fractions(
        self, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0, stratify: bool = True
    ) -> FERData:
        """Image-level re-split by ``(train, val, test)`` fractions, seeded and stratified by class.

        This is the paper's protocol for the small posed datasets (the same person may appear in
        train and test; a group never does). See :func:`fer_avalanche.data.splits.split_by_fractions`.
        """
        return _splits.split_by_fractions(self, fractions, seed=seed, stratify=stratify)

    def resplit_by_subject(self, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0) -> FERData:
        """Subject-independent re-split: every subject's samples land in exactly one split."""
        return _splits.split_by_subject(self, fractions, seed=seed)

    # --------------------------------------------------------------- summary
    def counts(self) -> dict[str, int]:
        """Samples per split, ``{'train': n, 'val': n, 'test': n}``."""
        per = torch.bincount(self.split, minlength=len(SPLITS))
        return {name: int(per[i]) for i, name in enumerate(SPLITS)}

    def class_counts(self, split: str | None = None) -> dict[str, int]:
        """Samples per class name (every class of the label space), optionally for one split."""
        labels = self.labels if split is None else self.labels[self.split_mask(split)]
        per = torch.bincount(labels, minlength=self.num_classes)
        return {name: int(per[i]) for i, name in enumerate(self.label_space.names)}

    @property
    def num_subjects(self) -> int | None:
        """Number of distinct subjects, or ``None`` when subjects are unknown."""
        return None if self.subjects is None else int(torch.unique(self.subjects).numel())

    @property
    def num_groups(self) -> int | None:
        """Number of distinct groups (sequences, takes), or ``None`` when groups are unknown."""
        return None if self.groups is None else int(torch.unique(self.groups).numel())

    def group_counts(self) -> dict[str, int] | None:
        """Distinct groups per split, ``{'train': g, 'val': g, 'test': g}``, or ``None`` without groups."""
        if self.groups is None:
            return None
        return {s: int(torch.unique(self.groups[self.split == i]).numel()) for i, s in enumerate(SPLITS)}

    def summary(self) -> dict[str, Any]:
        """A JSON-ready description: totals per split and class, subjects, groups, image size, provenance.

        ``groups`` is the number of groups (``None`` when unknown) and ``per_split_groups`` the groups
        per split.
        """
        return {
            "name": self.name,
            "total": len(self),
            "label_space": self.label_space.name,
            "image_size": list(self.image_size),
            "per_split": self.counts(),
            "per_class": self.class_counts(),
            "per_split_class": {s: self.class_counts(s) for s in SPLITS},
            "subjects": self.num_subjects,
            "groups": self.num_groups,
            "per_split_groups": self.group_counts(),
            "provenance": self.provenance,
        }

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.counts().items())
        subjects = "" if self.subjects is None else f", subjects={self.num_subjects}"
        groups = "" if self.groups is None else f", groups={self.num_groups}"
        return (
            f"FERData(name={self.name!r}, n={len(self)}, {counts}, size={self.image_size}, "
            f"label_space={self.label_space.name!r}{subjects}{groups})"
        )

    # --------------------------------------------------------------- storage
    def to_arrays(self) -> dict[str, np.ndarray]:
        """NumPy arrays for saving (see :mod:`fer_avalanche.data.cache`)."""
        arrays = {
            "images": self.images.numpy(),
            "labels": self.labels.numpy(),
            "split": self.split.numpy().astype(np.int8),
        }
        if self.subjects is not None:
            arrays["subjects"] = self.subjects.numpy()
        if self.groups is not None:
            arrays["groups"] = self.groups.numpy()
        return arrays

    @classmethod
    def from_arrays(
        cls,
        arrays: dict[str, np.ndarray],
        name: str,
        label_space: LabelSpace | str = BASIC7,
        provenance: dict[str, Any] | None = None,
    ) -> FERData:
        """Inverse of :meth:`to_arrays`."""
        return cls(
            name=name,
            images=torch.from_numpy(np.ascontiguousarray(arrays["images"])),
            labels=torch.from_numpy(np.asarray(arrays["labels"], dtype=np.int64)),
            split=torch.from_numpy(np.asarray(arrays["split"], dtype=np.int64)),
            subjects=(
                torch.from_numpy(np.asarray(arrays["subjects"], dtype=np.int64))
                if "subjects" in arrays
                else None
            ),
            groups=(
                torch.from_numpy(np.asarray(arrays["groups"], dtype=np.int64)) if "groups" in arrays else None
            ),
            label_space=get_label_space(label_space),
            provenance=dict(provenance or {}),
        )


def _as_tensor(value: object, name: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    try:
        return torch.as_tensor(np.asarray(value))
    except (TypeError, ValueError) as exc:
        raise DatasetError(f"{name} cannot be turned into a tensor: {exc}") from None
