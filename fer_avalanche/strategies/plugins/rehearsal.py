"""Train on the target together with (a sample of) the source: the paper's *fusion*, and *replay*.

After Avalanche adapts the training dataset of an experience, the plugin concatenates its buffer to
it (``strategy.adapted_dataset = strategy.adapted_dataset.concat(buffer)``), so every epoch shuffles
target and buffer samples together; the fast device loader resolves such concatenations.

- ``max_size=None``: the buffer is the whole source (**fusion**, the union of source and target);
- ``max_size=m``: ``m`` samples of the source (**replay**), drawn at random or class-balanced.

In sequential streams (source -> t1 -> t2 ...), with ``grow_with_targets`` the buffer grows after each
training experience: fusion adds the whole experience; replay re-balances its ``m`` slots evenly over
the source and the experiences seen so far (each dataset's share is a prefix of a fixed seeded order,
so samples already kept stay kept while the share shrinks).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch

from fer_avalanche.errors import CheckpointError, ConfigError
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.benchmarks.utils import AvalancheDataset
    from avalanche.training.plugins import SupervisedPlugin

__all__ = ["SourceRehearsalPlugin", "SELECTIONS"]

#: How the bounded buffer picks samples within one dataset.
SELECTIONS: tuple[str, ...] = ("random", "class_balanced")


def _targets(dataset: Any) -> np.ndarray:
    return np.asarray(list(dataset.targets), dtype=np.int64)


def _sample_order(targets: np.ndarray, selection: str, seed: int) -> np.ndarray:
    """A fixed order of ``range(len(targets))`` whose every prefix is a valid sample.

    ``random``: a seeded permutation. ``class_balanced``: per-class seeded permutations dealt round-robin
    (one sample of each class in turn), so any prefix has class counts differing by at most one,
    until a class runs out.
    """
    rng = np.random.default_rng(seed)
    if selection == "random":
        return rng.permutation(len(targets))
    per_class = [rng.permutation(np.flatnonzero(targets == c)) for c in np.unique(targets)]
    rounds = max((len(p) for p in per_class), default=0)
    padded = np.full((rounds, len(per_class)), -1, dtype=np.int64)
    for j, perm in enumerate(per_class):
        padded[: len(perm), j] = perm
    flat = padded.reshape(-1)
    return flat[flat >= 0]


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
    """Concatenate source samples (all of them, or a bounded buffer) to every training experience.

    Args:
        source: the source's training dataset (an Avalanche dataset, e.g. ``train_stream[0].dataset``).
        max_size: buffer size; ``None`` = the whole source (fusion).
        selection: ``"random"`` or ``"class_balanced"`` (ignored for fusion).
        seed: seed of the sample orders; the buffer is a deterministic function of it.
        grow_with_targets: after each training experience, also rehearse that experience's data
            (fusion: all of it; replay: the ``max_size`` slots are re-split evenly).

    Checkpointing: :meth:`state_dict` returns ``{"max_size": int (-1 = all), "seed": int,
    "indices": [int64 tensor per dataset], "lengths": int64 tensor}``: the buffer as indices into the
    source (entry 0) and the seen experiences' datasets, in order. :meth:`load_state_dict` takes it back
    together with those experience datasets (the source is the one given here).

    Example:
        >>> from fer_avalanche.strategies.plugins import SourceRehearsalPlugin
        >>> replay = SourceRehearsalPlugin(bm.train_stream[0].dataset, max_size=500,
        ...                                selection="class_balanced")  # doctest: +SKIP
        >>> fusion = SourceRehearsalPlugin(bm.train_stream[0].dataset)  # doctest: +SKIP
    """

    def __init__(
        self,
        source: AvalancheDataset,
        max_size: int | None = None,
        selection: Literal["random", "class_balanced"] = "random",
        seed: int = 0,
        grow_with_targets: bool = True,
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
        self.source = source
        self.max_size = max_size
        self.selection = selection
        self.seed = seed
        self.grow_with_targets = bool(grow_with_targets)
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
        self.indices = [np.sort(self._order(k)[:s]) for k, s in enumerate(shares)]

    # ---------------------------------------------------------------- hooks
    def after_train_dataset_adaptation(self, strategy: Any, **kwargs: Any) -> None:
        strategy.adapted_dataset = strategy.adapted_dataset.concat(self.buffer)

    def after_training_exp(self, strategy: Any, **kwargs: Any) -> None:
        if self.grow_with_targets and strategy.experience is not None:
            self.datasets.append(strategy.experience.dataset)
            self._rebalance()

    # ----------------------------------------------------------- checkpoint
    def state_dict(self) -> dict[str, Any]:
        """The buffer as plain tensors/ints (see the class docstring)."""
        return {
            "max_size": -1 if self.max_size is None else int(self.max_size),
            "seed": int(self.seed),
            "indices": [torch.from_numpy(idx.copy()) for idx in self.indices],
            "lengths": torch.tensor([len(ds) for ds in self.datasets], dtype=torch.long),
        }

    def load_state_dict(self, state: dict[str, Any], experience_datasets: Sequence[Any] = ()) -> None:
        """Restore a buffer saved by :meth:`state_dict`.

        Args:
            state: the saved dict.
            experience_datasets: the training datasets of the experiences trained before the save, in
                order (empty when the save was made before any training experience ended).

        Raises:
            CheckpointError: the number or sizes of the datasets do not match the saved state.
        """
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
        return (
            f"SourceRehearsalPlugin(max_size={size}, selection={self.selection!r}, seed={self.seed}, "
            f"grow_with_targets={self.grow_with_targets}, buffered={len(self)})"
        )
