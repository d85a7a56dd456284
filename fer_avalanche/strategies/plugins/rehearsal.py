"""Train on the target together with (a sample of) the source: the paper's *fusion*, and *replay*.

The buffer:

- ``max_size=None``: the whole source (**fusion**, the union of source and target);
- ``max_size=m``: ``m`` samples of the source (**replay**), chosen by ``selection``: ``"random"``,
  ``"class_balanced"`` (equal counts per class, as far as the classes allow) or ``"stratified"`` (the
  source's own class distribution: ``m`` slots split over the classes by largest remainder).

How buffer and target meet (``mix``):

- ``"concat"`` (the paper's reading, the default): after Avalanche adapts the training dataset, the
  buffer is concatenated to it (``adapted_dataset.concat(buffer)``) and every epoch shuffles the
  union; the target's share of a batch is then an accident of the sizes (JAFFE is about 0.5% of
  FER2013 + JAFFE);
- ``"batch"``: the target stays the training dataset and every batch holds ``target_fraction`` of
  target samples (drawn with replacement) and the rest from the buffer
  (:class:`~fer_avalanche.loaders.MixedBatchLoader`, set as ``strategy.dataloader`` in
  ``before_training_exp``), as Avalanche's ``Replay`` mixes a memory batch into every step; one epoch is
  ``ceil(n_target / (target_fraction * batch_size))`` steps, one expected pass over the target.

In sequential streams (source -> t1 -> t2 ...), with ``grow_with_targets`` the buffer grows after each
training experience: fusion adds the whole experience; replay re-balances its ``m`` slots evenly over
the source and the experiences seen so far (each dataset's share is a prefix of a fixed seeded order,
so samples already kept stay kept while the share shrinks; with ``"stratified"`` within one sample
per class). With ``mix="batch"`` the "source" side of every batch is that whole buffer: the source
plus the earlier targets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch

from fer_avalanche.errors import CheckpointError, ConfigError
from fer_avalanche.loaders import MixedBatchLoader, gather_tensors
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.benchmarks.utils import AvalancheDataset
    from avalanche.training.plugins import SupervisedPlugin

if TYPE_CHECKING:
    from avalanche.training.templates import SupervisedTemplate

__all__ = ["SourceRehearsalPlugin", "SELECTIONS", "MIXES", "stratified_counts"]

#: How the bounded buffer picks samples within one dataset.
SELECTIONS: tuple[str, ...] = ("random", "class_balanced", "stratified")
#: How buffer and target samples meet in the training batches.
MIXES: tuple[str, ...] = ("concat", "batch")


def _targets(dataset: AvalancheDataset) -> np.ndarray:
    return np.asarray(list(dataset.targets), dtype=np.int64)


def stratified_counts(class_counts: Sequence[int], total: int) -> np.ndarray:
    """``total`` slots split over classes in proportion to ``class_counts`` (largest remainder).

    Each class gets ``floor(total * n_c / N)`` plus one for the largest remainders (ties to the larger
    class, then the lower index), never more than it has.

    Example:
        >>> stratified_counts([50, 30, 20], 7).tolist()
        [4, 2, 1]
    """
    counts = np.asarray(class_counts, dtype=np.int64)
    n = int(counts.sum())
    total = min(int(total), n)
    if total <= 0 or n == 0:
        return np.zeros_like(counts)
    quota = counts * total / n
    out = np.minimum(np.floor(quota).astype(np.int64), counts)
    remainder = quota - out
    order = np.lexsort((np.arange(len(counts)), -counts, -remainder))  # last key sorts first
    for c in order[: total - int(out.sum())]:
        out[c] += 1
    return out


def _sample_order(targets: np.ndarray, selection: str, seed: int) -> np.ndarray:
    """A fixed order of ``range(len(targets))`` to take buffer samples from.

    ``random``: a seeded permutation (every prefix is a random sample). ``class_balanced``: per-class
    seeded permutations dealt round-robin (one sample of each class in turn), so any prefix has class
    counts differing by at most one, until a class runs out. ``stratified``: per-class seeded
    permutations one after the other (class by class); :func:`_select` takes the largest-remainder
    count from each class's block.
    """
    rng = np.random.default_rng(seed)
    if selection == "random":
        return rng.permutation(len(targets))
    per_class = [rng.permutation(np.flatnonzero(targets == c)) for c in np.unique(targets)]
    if selection == "stratified":
        return np.concatenate(per_class) if per_class else np.zeros(0, dtype=np.int64)
    rounds = max((len(p) for p in per_class), default=0)
    padded = np.full((rounds, len(per_class)), -1, dtype=np.int64)
    for j, perm in enumerate(per_class):
        padded[: len(perm), j] = perm
    flat = padded.reshape(-1)
    return flat[flat >= 0]


def _select(order: np.ndarray, targets: np.ndarray, selection: str, size: int) -> np.ndarray:
    """``size`` sample indices from ``order`` (a prefix; per class by largest remainder if stratified)."""
    if selection != "stratified":
        return np.sort(order[:size])
    classes, counts = np.unique(targets, return_counts=True)
    take = stratified_counts(counts, size)
    starts = np.cumsum(counts) - counts  # each class's first position in the order (none: no class)
    parts = [order[start : start + k] for start, k in zip(starts, take, strict=True)]
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


def _shares(total: int, sizes: Sequence[int]) -> list[int]:
    """Split ``total`` slots as evenly as possible over datasets of ``sizes`` (never above a size)."""
    shares = [0] * len(sizes)
    left = min(total, sum(sizes))
    open_ = [i for i, s in enumerate(sizes) if s > 0]
    while left > 0 and open_:
        each, extra = divmod(left, len(open_))
        for k, i in enumerate(open_):
            give = min(each + (1 if k < extra else 0), sizes[i] - shares[i])
            shares[i] += give
            left -= give
        open_ = [i for i in open_ if shares[i] < sizes[i]]
    return shares


class SourceRehearsalPlugin(SupervisedPlugin):
    """Rehearse source samples (all of them, or a bounded buffer) with every training experience.

    Args:
        source: the source's training dataset (an Avalanche dataset, e.g. ``train_stream[0].dataset``).
        max_size: buffer size; ``None`` = the whole source (fusion).
        selection: ``"random"``, ``"class_balanced"`` or ``"stratified"`` (ignored for fusion).
        seed: seed of the sample orders; the buffer is a deterministic function of it.
        grow_with_targets: after each training experience, also rehearse that experience's data
            (fusion: all of it; replay: the ``max_size`` slots are re-split evenly).
        mix: ``"concat"`` (the union, shuffled) or ``"batch"`` (a fixed target share per batch).
        target_fraction: with ``mix="batch"``, the share of target samples in every batch, in
            ``(0, 1]``; required there, refused with ``"concat"``.

    Checkpointing: :meth:`state_dict` returns ``{"max_size": int (-1 = all), "seed": int,
    "indices": [int64 tensor per dataset], "lengths": int64 tensor, "experience_datasets": [datasets]}``:
    the buffer as indices into the source (entry 0) and the seen experiences' datasets, in order
    (:func:`~fer_avalanche.strategies.state.strategy_state` stores those datasets by reference, as
    sample indices). :meth:`load_state_dict` takes it back (the source is the one given here).

    Example:
        >>> from fer_avalanche.strategies.plugins import SourceRehearsalPlugin
        >>> replay = SourceRehearsalPlugin(bm.train_stream[0].dataset, max_size=500,
        ...                                selection="stratified", mix="batch",
        ...                                target_fraction=0.5)  # doctest: +SKIP
        >>> fusion = SourceRehearsalPlugin(bm.train_stream[0].dataset)  # doctest: +SKIP
    """

    def __init__(
        self,
        source: AvalancheDataset,
        max_size: int | None = None,
        selection: Literal["random", "class_balanced", "stratified"] = "random",
        seed: int = 0,
        grow_with_targets: bool = True,
        mix: Literal["concat", "batch"] = "concat",
        target_fraction: float | None = None,
    ) -> None:
        super().__init__()
        if source is None or not hasattr(source, "targets") or not hasattr(source, "concat"):
            raise ConfigError(
                "SourceRehearsalPlugin needs the source's training data as an Avalanche dataset "
                f"(e.g. benchmark.train_stream[0].dataset), got {type(source).__name__}"
            )
        if len(source) == 0:
            raise ConfigError("SourceRehearsalPlugin: the source dataset is empty")
        if max_size is not None and (
            not isinstance(max_size, int) or isinstance(max_size, bool) or max_size < 1
        ):
            raise ConfigError(f"SourceRehearsalPlugin max_size must be an int >= 1 or None, got {max_size!r}")
        if selection not in SELECTIONS:
            raise ConfigError(
                f"SourceRehearsalPlugin selection must be one of {list(SELECTIONS)}, got {selection!r}"
            )
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ConfigError(f"SourceRehearsalPlugin seed must be an int, got {seed!r}")
        _check_mix(mix, target_fraction)
        self.source = source
        self.max_size = max_size
        self.selection = selection
        self.seed = seed
        self.grow_with_targets = bool(grow_with_targets)
        self.mix = mix
        self.target_fraction = None if target_fraction is None else float(target_fraction)
        self.datasets: list[Any] = [source]
        self.indices: list[np.ndarray] = []
        self._orders: list[np.ndarray | None] = []
        self._rebalance()

    # --------------------------------------------------------------- buffer
    @property
    def buffer(self) -> AvalancheDataset:
        """The rehearsed samples as one Avalanche dataset (subsets of the source and seen experiences)."""
        parts = [ds if idx is None else ds.subset(idx.tolist()) for ds, idx in self._parts()]
        out = parts[0]
        for part in parts[1:]:
            out = out.concat(part)
        return out

    def __len__(self) -> int:
        return sum(len(ds) if idx is None else len(idx) for ds, idx in self._parts())

    def _parts(self) -> list[tuple[Any, np.ndarray | None]]:
        if self.max_size is None:
            return [(ds, None) for ds in self.datasets]
        return [(ds, idx) for ds, idx in zip(self.datasets, self.indices, strict=True) if len(idx)]

    def _order(self, k: int) -> np.ndarray:
        while len(self._orders) <= k:
            self._orders.append(None)
        if self._orders[k] is None:
            self._orders[k] = _sample_order(_targets(self.datasets[k]), self.selection, self.seed * 1009 + k)
        return self._orders[k]  # type: ignore[return-value]

    def _rebalance(self) -> None:
        if self.max_size is None:
            self.indices = [np.arange(len(ds), dtype=np.int64) for ds in self.datasets]
            return
        shares = _shares(self.max_size, [len(ds) for ds in self.datasets])
        self.indices = [
            _select(self._order(k), _targets(self.datasets[k]), self.selection, share)
            for k, share in enumerate(shares)
        ]

    # ---------------------------------------------------------------- hooks
    def after_train_dataset_adaptation(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        if self.mix == "concat":
            strategy.adapted_dataset = strategy.adapted_dataset.concat(self.buffer)

    def before_training_exp(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        if self.mix != "batch":
            return
        target, buffer = strategy.adapted_dataset, self.buffer
        if gather_tensors(target) is None or gather_tensors(buffer) is None:
            raise ConfigError(
                "rehearsal mix='batch' forms batches on the device by index and needs datasets built by "
                "fer_avalanche.benchmarks (no transforms); use mix='concat' for other datasets"
            )
        strategy.dataloader = MixedBatchLoader(
            target,
            buffer,
            strategy.train_mb_size,
            self.target_fraction,  # type: ignore[arg-type]
            device=strategy.device,
            generator=getattr(strategy, "data_generator", None),
        )

    def after_training_exp(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        if self.grow_with_targets and strategy.experience is not None:
            self.datasets.append(strategy.experience.dataset)
            self._rebalance()

    # ----------------------------------------------------------- checkpoint
    def state_dict(self) -> dict[str, Any]:
        """The buffer as indices, plus the experience datasets they index (see the class docstring)."""
        return {
            "max_size": -1 if self.max_size is None else int(self.max_size),
            "seed": int(self.seed),
            "indices": [torch.from_numpy(idx.copy()) for idx in self.indices],
            "lengths": torch.tensor([len(ds) for ds in self.datasets], dtype=torch.long),
            "experience_datasets": list(self.datasets[1:]),
        }

    def load_state_dict(
        self, state: dict[str, Any], experience_datasets: Sequence[Any] | None = None
    ) -> None:
        """Restore a buffer saved by :meth:`state_dict`.

        Args:
            state: the saved dict.
            experience_datasets: the training datasets of the experiences trained before the save, in
                order; ``None`` = those stored in ``state``.

        Raises:
            CheckpointError: the number or sizes of the datasets do not match the saved state.
        """
        if experience_datasets is None:
            experience_datasets = state.get("experience_datasets", [])
        datasets = [self.source, *experience_datasets]
        lengths = [int(n) for n in state["lengths"]]
        if len(lengths) != len(datasets) or any(len(d) != n for d, n in zip(datasets, lengths, strict=True)):
            raise CheckpointError(
                f"rehearsal buffer was saved over datasets of sizes {lengths}, but got "
                f"{[len(d) for d in datasets]} (the source plus {len(experience_datasets)} "
                "experience datasets)"
            )
        max_size = int(state["max_size"])
        self.max_size = None if max_size < 0 else max_size
        self.seed = int(state["seed"])
        self.datasets = datasets
        self._orders = []
        self.indices = [t.cpu().numpy().astype(np.int64) for t in state["indices"]]

    def __repr__(self) -> str:
        size = "all" if self.max_size is None else self.max_size
        mix = self.mix if self.mix == "concat" else f"batch, target_fraction={self.target_fraction}"
        return (
            f"SourceRehearsalPlugin(max_size={size}, selection={self.selection!r}, seed={self.seed}, "
            f"grow_with_targets={self.grow_with_targets}, mix={mix}, buffered={len(self)})"
        )


def _check_mix(mix: object, target_fraction: object) -> None:
    if mix not in MIXES:
        raise ConfigError(f"rehearsal mix must be one of {list(MIXES)}, got {mix!r}")
    if mix == "batch":
        if (
            isinstance(target_fraction, bool)
            or not isinstance(target_fraction, int | float)
            or not 0 < target_fraction <= 1
        ):
            raise ConfigError(
                f"rehearsal mix='batch' needs target_fraction, the target's share of every batch, in "
                f"(0, 1]; got {target_fraction!r}"
            )
    elif target_fraction is not None:
        raise ConfigError(
            f"target_fraction={target_fraction!r} is used only with mix='batch' (got mix={mix!r})"
        )
