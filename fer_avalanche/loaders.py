"""Fast batches for Avalanche strategies: whole datasets resident on the device, batches by index.

Avalanche's default loaders call ``dataset[i]`` once per sample and collate in Python. FER images
are tiny, so that per-sample work, not the model, sets the pace. :func:`gather_tensors` resolves any
Avalanche dataset built by :mod:`fer_avalanche.benchmarks` (including subsets and concatenations made
by replay, fusion or GDumb) into one index tensor over its leaf :class:`FERTensorDataset` objects;
:class:`DeviceBatchLoader` then forms each batch with one ``index_select`` on the device and
normalises it there. Batches are ``[x, y, t]`` lists, exactly what Avalanche strategies expect, so
plugins keep working. Datasets that are not ours fall back to Avalanche's loaders.

:class:`MixedBatchLoader` forms every batch from two datasets at a fixed share (rehearsal with
``mix = "batch"``): ``target_fraction`` of each batch is drawn with replacement from the target, the
rest from the source (a buffer), cycling through seeded permutations of it, the way Avalanche's
``Replay`` mixes a memory batch into every step. Both loaders know the composition of the batch they
last yielded (:attr:`DeviceBatchLoader.last_composition`) from the indices they drew, on the CPU, so a
budget counter reads it without a device sync.

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

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from fer_avalanche.benchmarks import FERTensorDataset, normalize

if TYPE_CHECKING:
    from avalanche.benchmarks.utils import AvalancheDataset

__all__ = ["TensorView", "gather_tensors", "DeviceBatchLoader", "MixedBatchLoader", "device_batches"]


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

    def concat(self, other: TensorView) -> TensorView:
        """The samples of ``self`` followed by those of ``other`` (leaves shared by identity)."""
        leaves = list(self.leaves)
        position = {id(leaf): k for k, leaf in enumerate(leaves)}
        for leaf in other.leaves:
            if id(leaf) not in position:
                position[id(leaf)] = len(leaves)
                leaves.append(leaf)
        remap = torch.tensor([position[id(leaf)] for leaf in other.leaves], dtype=torch.long)
        return TensorView(
            leaves,
            torch.cat([self.leaf_of, remap[other.leaf_of]]),
            torch.cat([self.local, other.local]),
            torch.cat([self.task_labels, other.task_labels]),
        )

    def member_of(self, other: TensorView) -> torch.Tensor:
        """A CPU bool mask: sample ``i`` of ``self`` is one of ``other``'s samples (same leaf and row).

        Example:
            >>> union = target.concat(source)  # doctest: +SKIP
            >>> int(union.member_of(target).sum()) == len(target)  # doctest: +SKIP
            True
        """
        out = torch.zeros(len(self), dtype=torch.bool)
        theirs = {id(leaf): k for k, leaf in enumerate(other.leaves)}
        for k, leaf in enumerate(self.leaves):
            j = theirs.get(id(leaf))
            if j is None:
                continue
            mask = self.leaf_of == k
            out[mask] = torch.isin(self.local[mask], other.local[other.leaf_of == j])
        return out


def gather_tensors(dataset: object) -> TensorView | None:
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


def _has_transforms(flat: object) -> bool:
    for tg in (getattr(flat, "_transform_groups", None), getattr(flat, "_frozen_transform_groups", None)):
        if tg is not None and any(
            t is not None for t in getattr(tg, "transform_groups", {}).values() if not _is_empty_group(t)
        ):
            return True
    return False


def _resolve(flat: object) -> tuple[list[FERTensorDataset], np.ndarray, np.ndarray] | None:
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


def _is_empty_group(group: object) -> bool:
    transforms = getattr(group, "transforms", None)
    if transforms is not None:
        return all(t is None for t in transforms)
    return group is None


def _as_view(dataset: AvalancheDataset | TensorView, who: str) -> TensorView:
    view = dataset if isinstance(dataset, TensorView) else gather_tensors(dataset)
    if view is None:
        raise TypeError(
            f"{who} needs a dataset built by fer_avalanche.benchmarks (FERTensorDataset leaves, no "
            f"transforms), got {type(dataset).__name__}"
        )
    return view


class _Resident:
    """The images of a :class:`TensorView` resident on ``device``, and its labels and task labels there.

    A single leaf is used in place (its cached device copy); several are stacked once. ``rows[i]`` is
    the row of sample ``i`` in ``images``.
    """

    def __init__(self, view: TensorView, device: torch.device) -> None:
        if len(view.leaves) == 1:
            self.images = view.leaves[0].images_on(device)
            self.rows = view.local.to(device)
            self.labels = view.leaves[0].targets.to(device)[self.rows]
        else:
            used = [torch.unique(view.local[view.leaf_of == k]) for k in range(len(view.leaves))]
            parts = [leaf.images[rows] for leaf, rows in zip(view.leaves, used, strict=True)]
            self.images = torch.cat(parts).to(device)
            offsets = np.cumsum([0] + [len(r) for r in used[:-1]])
            rows = torch.empty(len(view), dtype=torch.long)
            for k, r in enumerate(used):
                mask = view.leaf_of == k
                rows[mask] = torch.searchsorted(r, view.local[mask]) + int(offsets[k])
            self.rows = rows.to(device)
            self.labels = view.labels().to(device)
        self.tasks = view.task_labels.to(device)

    def batch(self, idx: torch.Tensor) -> list[torch.Tensor]:
        """``[x, y, t]`` of the samples at positions ``idx`` (a tensor on the device)."""
        x = normalize(self.images.index_select(0, self.rows[idx]))
        return [x, self.labels[idx], self.tasks[idx]]


def _segment_sums(values: torch.Tensor, size: int, n_batches: int) -> list[int]:
    """Sums of ``values`` over consecutive chunks of ``size`` (the last may be shorter), as ints."""
    csum = torch.cat([torch.zeros(1, dtype=torch.long), values.long().cumsum(0)])
    ends = torch.clamp(torch.arange(1, n_batches + 1) * size, max=len(values))
    starts = torch.arange(n_batches) * size
    return (csum[ends] - csum[starts]).tolist()


class DeviceBatchLoader:
    """Mini-batches of a :class:`TensorView` formed on ``device`` by index.

    Args:
        dataset: an Avalanche dataset over our leaves, or a :class:`TensorView`.
        batch_size: samples per batch.
        shuffle: reshuffle every epoch (with ``generator`` when given, for reproducibility).
        device: where the images live and batches are formed.
        drop_last: drop a last incomplete batch.
        generator: a CPU ``torch.Generator`` for the shuffling order.
        own: optional CPU bool mask over the samples (e.g. "belongs to the current experience"); with
            it :attr:`last_composition` says how many samples of the last batch were in the mask.

    Each iteration yields ``[x, y, t]``: normalised float images ``[B, 1, H, W]``, int64 labels and
    task labels, all on ``device``. :attr:`last_composition` is ``(in_mask, not_in_mask)`` of the batch
    last yielded, computed on the CPU from the drawn order (``None`` without a mask); :attr:`last_own`
    the mask of that batch's samples, a bool tensor on ``device`` (moved once per epoch).
    """

    def __init__(
        self,
        dataset: AvalancheDataset | TensorView,
        batch_size: int,
        shuffle: bool = False,
        device: torch.device | None = None,
        drop_last: bool = False,
        generator: torch.Generator | None = None,
        own: torch.Tensor | None = None,
    ) -> None:
        view = _as_view(dataset, "DeviceBatchLoader")
        self.device = device or torch.device("cpu")
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator
        self.dataset = dataset
        self.view = view
        self._store = _Resident(view, self.device)
        self.num_samples = len(view)
        self.own: torch.Tensor | None = None
        self.last_composition: tuple[int, int] | None = None
        self.last_own: torch.Tensor | None = None
        if own is not None:
            self.track(own)

    def track(self, own: torch.Tensor) -> None:
        """Report :attr:`last_composition` against ``own`` (a CPU bool mask, one entry per sample)."""
        own = torch.as_tensor(own, dtype=torch.bool).cpu()
        if own.shape != (self.num_samples,):
            raise ValueError(f"own mask has shape {tuple(own.shape)}, expected ({self.num_samples},)")
        self.own = own

    def __len__(self) -> int:
        if self.drop_last:
            return self.num_samples // self.batch_size
        return (self.num_samples + self.batch_size - 1) // self.batch_size

    def __iter__(self) -> Iterator[list[torch.Tensor]]:
        n, size, n_batches = self.num_samples, self.batch_size, len(self)
        order_cpu = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        order = order_cpu.to(self.device)
        counts = None if self.own is None else _segment_sums(self.own[order_cpu], size, n_batches)
        own = None if self.own is None else self.own[order_cpu].to(self.device)  # one copy per epoch
        for b in range(n_batches):
            idx = order[b * size : (b + 1) * size]
            if counts is not None:
                self.last_composition = (counts[b], int(idx.shape[0]) - counts[b])
            if own is not None:
                self.last_own = own[b * size : (b + 1) * size]
            yield self._store.batch(idx)


class MixedBatchLoader:
    """Batches that hold ``target_fraction`` of target samples and the rest from a source (rehearsal).

    Every batch has ``batch_size`` samples. The number of target samples per batch follows the
    running share exactly (batch ``b`` gets ``round((b+1) f B) - round(b f B)``: constant when
    ``f * B`` is an integer, alternating otherwise), drawn uniformly **with replacement** from the
    target; the source part comes from seeded permutations of the source, cycled (every source sample
    is used once before any repeats). An epoch is ``ceil(n_target / (f * B))`` steps: one expected pass
    over the target. All draws happen on the CPU with ``generator``, once per epoch, and the epoch's
    index matrix moves to the device in one copy; batches are formed there by index.

    Args:
        target: the current experience's (adapted) training dataset, or a :class:`TensorView`.
        source: the rehearsed data (the source, or a replay buffer), or a :class:`TensorView`.
        batch_size: samples per batch (>= 2).
        target_fraction: share of target samples per batch, in ``(0, 1]``.
        device: where images live and batches are formed.
        generator: a CPU ``torch.Generator`` (the strategy's data generator, so checkpoints carry it).

    :attr:`last_composition` is ``(target, source)`` of the batch last yielded, :attr:`last_own` its
    per-sample "is a target sample" mask (a bool tensor on ``device``).

    Example:
        >>> loader = MixedBatchLoader(target_ds, buffer, batch_size=32, target_fraction=0.5)  # doctest: +SKIP
        >>> len(loader) == math.ceil(len(target_ds) / 16)  # doctest: +SKIP
        True
    """

    def __init__(
        self,
        target: AvalancheDataset | TensorView,
        source: AvalancheDataset | TensorView,
        batch_size: int,
        target_fraction: float,
        device: torch.device | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        if not 0 < float(target_fraction) <= 1:
            raise ValueError(f"target_fraction must be in (0, 1], got {target_fraction!r}")
        if int(batch_size) < 2:
            raise ValueError(f"MixedBatchLoader batch_size must be >= 2, got {batch_size!r}")
        target_view = _as_view(target, "MixedBatchLoader (target)")
        source_view = _as_view(source, "MixedBatchLoader (source)")
        if len(target_view) == 0:
            raise ValueError("MixedBatchLoader: the target dataset is empty")
        if len(source_view) == 0 and target_fraction < 1:
            raise ValueError("MixedBatchLoader: the source dataset is empty but target_fraction < 1")
        self.device = device or torch.device("cpu")
        self.batch_size = int(batch_size)
        self.target_fraction = float(target_fraction)
        self.generator = generator
        self.n_target, self.n_source = len(target_view), len(source_view)
        self.view = target_view.concat(source_view)
        self._store = _Resident(self.view, self.device)
        self._perm = torch.empty(0, dtype=torch.long)
        self._cursor = 0
        self.last_composition: tuple[int, int] | None = None
        self.last_own: torch.Tensor | None = None

    @property
    def target_per_batch(self) -> float:
        """Expected target samples per batch, ``target_fraction * batch_size``."""
        return self.target_fraction * self.batch_size

    def __len__(self) -> int:
        return max(1, math.ceil(self.n_target / self.target_per_batch - 1e-9))

    def target_counts(self, n_batches: int) -> torch.Tensor:
        """Target samples in each of ``n_batches`` consecutive batches (CPU int64)."""
        cum = torch.floor(torch.arange(n_batches + 1, dtype=torch.float64) * self.target_per_batch + 0.5)
        return cum.long().diff().clamp_(0, self.batch_size)

    def _source_draws(self, k: int) -> torch.Tensor:
        parts, need = [], k
        while need > 0:
            if self._cursor >= len(self._perm):
                self._perm, self._cursor = torch.randperm(self.n_source, generator=self.generator), 0
            take = self._perm[self._cursor : self._cursor + need]
            self._cursor += len(take)
            need -= len(take)
            parts.append(take)
        return torch.cat(parts) if parts else torch.empty(0, dtype=torch.long)

    def __iter__(self) -> Iterator[list[torch.Tensor]]:
        steps, size = len(self), self.batch_size
        counts = self.target_counts(steps)
        is_target = torch.arange(size)[None, :] < counts[:, None]
        positions = torch.empty(steps, size, dtype=torch.long)
        n_t = int(counts.sum())
        positions[is_target] = torch.randint(self.n_target, (n_t,), generator=self.generator)
        positions[~is_target] = self.n_target + self._source_draws(steps * size - n_t)
        positions, own = positions.to(self.device), is_target.to(self.device)
        for b, c in enumerate(counts.tolist()):
            self.last_composition = (c, size - c)
            self.last_own = own[b]
            yield self._store.batch(positions[b])


def device_batches(
    dataset: AvalancheDataset | TensorView,
    batch_size: int,
    device: torch.device,
    shuffle: bool = False,
    seed: int = 0,
) -> Iterable[list[torch.Tensor]]:
    """``[x, y, t]`` batches of any Avalanche dataset on ``device`` (the fast path when possible).

    No global random state is used: shuffling draws from a generator seeded with ``seed``.
    """
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    if gather_tensors(dataset) is not None:
        return DeviceBatchLoader(dataset, batch_size, shuffle=shuffle, device=device, generator=generator)
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        generator=generator,
        collate_fn=getattr(dataset, "collate_fn", None),
    )
    return _MovedLoader(loader, device)


class _MovedLoader:
    """A torch ``DataLoader`` whose batches are moved to ``device`` (re-iterable, like ours)."""

    def __init__(self, loader: torch.utils.data.DataLoader, device: torch.device) -> None:
        self.loader, self.device = loader, device

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[list[torch.Tensor]]:
        for batch in self.loader:
            yield [b.to(self.device) for b in batch]
