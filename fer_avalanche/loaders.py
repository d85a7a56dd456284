"""Fast batches for Avalanche strategies: whole datasets resident on the device, batches by index.

Avalanche's default loaders call ``dataset[i]`` once per sample and collate in Python. FER images
are tiny, so that per-sample work, not the model, sets the pace. :func:`gather_tensors` resolves any
Avalanche dataset built by :mod:`fer_avalanche.benchmarks` (including subsets and concatenations made
by replay, fusion or GDumb) into one index tensor over its leaf :class:`FERTensorDataset` objects;
:class:`DeviceBatchLoader` then forms each batch with one ``index_select`` on the device and
normalises it there. Batches are ``[x, y, t]`` lists, exactly what Avalanche strategies expect, so
plugins keep working. Datasets that are not ours fall back to Avalanche's loaders.

Example:
    >>> import torch
    >>> from fer_avalanche import make_domain, as_avalanche_dataset
    >>> from fer_avalanche.loaders import DeviceBatchLoader
    >>> ds = as_avalanche_dataset(make_domain("lab-a", n=140), "train")
    >>> loader = DeviceBatchLoader(ds, batch_size=32, shuffle=True, device=torch.device("cpu"))
    >>> x, y, t = next(iter(loader))
    >>> x.shape, x.dtype
    (torch.Size([32, 1, 48, 48]), torch.float32)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from fer_avalanche.benchmarks import FERTensorDataset, normalize

__all__ = ["TensorView", "gather_tensors", "DeviceBatchLoader"]


@dataclass
class TensorView:
    """An Avalanche dataset resolved to its leaves: ``leaves[leaf_of[i]].images[local[i]]`` is sample i."""

    leaves: list[FERTensorDataset]
    leaf_of: torch.Tensor
    local: torch.Tensor
    task_labels: torch.Tensor

    def __len__(self) -> int:
        return int(self.local.shape[0])

    def labels(self) -> torch.Tensor:
        """Labels of every sample (CPU int64)."""
        out = torch.empty(len(self), dtype=torch.long)
        for k, leaf in enumerate(self.leaves):
            mask = self.leaf_of == k
            out[mask] = leaf.targets[self.local[mask]]
        return out


def gather_tensors(dataset: Any) -> TensorView | None:
    """Resolve an Avalanche dataset over :class:`FERTensorDataset` leaves, or ``None`` if it is not one.

    Uses Avalanche 0.6's flat-data layout (leaf datasets plus a global index list; leaves may themselves
    be flat data, as Avalanche nests them after some concatenations) and refuses anything with
    transforms, since batches are formed without calling ``__getitem__``.
    """
    resolved = _resolve(getattr(dataset, "_flat_data", None))
    if resolved is None:
        return None
    leaves, leaf_of, local = resolved
    tasks = torch.as_tensor(np.asarray(list(dataset.targets_task_labels), dtype=np.int64))
    return TensorView(leaves, torch.from_numpy(leaf_of), torch.from_numpy(local), tasks)


def _has_transforms(flat: Any) -> bool:
    for tg in (getattr(flat, "_transform_groups", None), getattr(flat, "_frozen_transform_groups", None)):
        if tg is not None and any(
            t is not None for t in getattr(tg, "transform_groups", {}).values() if not _is_empty_group(t)
        ):
            return True
    return False


def _resolve(flat: Any) -> tuple[list[FERTensorDataset], np.ndarray, np.ndarray] | None:
    """``(leaves, leaf_of, local)`` of every sample of a (possibly nested) flat data, or ``None``."""
    children = getattr(flat, "_datasets", None)
    if flat is None or not children or _has_transforms(flat):
        return None
    leaves: list[FERTensorDataset] = []
    position: dict[int, int] = {}
    of_parts, local_parts = [], []
    for child in children:
        if isinstance(child, FERTensorDataset):
            sub: tuple[list[FERTensorDataset], np.ndarray, np.ndarray] | None = (
                [child],
                np.zeros(len(child), dtype=np.int64),
                np.arange(len(child), dtype=np.int64),
            )
        else:
            sub = _resolve(child)
        if sub is None:
            return None
        sub_leaves, sub_of, sub_local = sub
        for leaf in sub_leaves:
            if id(leaf) not in position:
                position[id(leaf)] = len(leaves)
                leaves.append(leaf)
        remap = np.array([position[id(leaf)] for leaf in sub_leaves], dtype=np.int64)
        of_parts.append(remap[sub_of])
        local_parts.append(sub_local)
    leaf_of, local = np.concatenate(of_parts), np.concatenate(local_parts)
    indices = flat._indices
    if indices is not None:
        global_idx = np.asarray(list(indices), dtype=np.int64)
        leaf_of, local = leaf_of[global_idx], local[global_idx]
    return leaves, leaf_of, local


def _is_empty_group(group: Any) -> bool:
    transforms = getattr(group, "transforms", None)
    if transforms is not None:
        return all(t is None for t in transforms)
    return group is None


class DeviceBatchLoader:
    """Mini-batches of a :class:`TensorView` formed on ``device`` by index.

    Args:
        dataset: an Avalanche dataset over our leaves, or a :class:`TensorView`.
        batch_size: samples per batch.
        shuffle: reshuffle every epoch (with ``generator`` when given, for reproducibility).
        device: where the images live and batches are formed.
        drop_last: drop a last incomplete batch.
        generator: a CPU ``torch.Generator`` for the shuffling order.

    Each iteration yields ``[x, y, t]``: normalised float images ``[B, 1, H, W]``, int64 labels and
    task labels, all on ``device``.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int,
        shuffle: bool = False,
        device: torch.device | None = None,
        drop_last: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        view = dataset if isinstance(dataset, TensorView) else gather_tensors(dataset)
        if view is None:
            raise TypeError("DeviceBatchLoader needs a dataset built by fer_avalanche.benchmarks")
        self.device = device or torch.device("cpu")
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator
        self.dataset = dataset
        # One resident image tensor: a single leaf is used in place; several are stacked once.
        if len(view.leaves) == 1:
            self._images = view.leaves[0].images_on(self.device)
            self._rows = view.local.to(self.device)
            labels = view.leaves[0].targets
            self._labels = labels.to(self.device)[self._rows]
        else:
            used = [torch.unique(view.local[view.leaf_of == k]) for k in range(len(view.leaves))]
            parts = [leaf.images[rows] for leaf, rows in zip(view.leaves, used, strict=True)]
            self._images = torch.cat(parts).to(self.device)
            offsets = np.cumsum([0] + [len(r) for r in used[:-1]])
            rows = torch.empty(len(view), dtype=torch.long)
            for k, r in enumerate(used):
                mask = view.leaf_of == k
                rows[mask] = torch.searchsorted(r, view.local[mask]) + int(offsets[k])
            self._rows = rows.to(self.device)
            self._labels = view.labels().to(self.device)
        self._tasks = view.task_labels.to(self.device)
        self.num_samples = len(view)

    def __len__(self) -> int:
        if self.drop_last:
            return self.num_samples // self.batch_size
        return (self.num_samples + self.batch_size - 1) // self.batch_size

    def __iter__(self) -> Iterator[list[torch.Tensor]]:
        n = self.num_samples
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(self.device)
        else:
            order = torch.arange(n, device=self.device)
        for b in range(len(self)):
            idx = order[b * self.batch_size : (b + 1) * self.batch_size]
            rows = self._rows[idx]
            x = normalize(self._images.index_select(0, rows))
            yield [x, self._labels[idx], self._tasks[idx]]
