"""FERData -> Avalanche benchmarks: cross-dataset streams and class-incremental ("NC") splits.

Every dataset becomes a ``TaskAwareSupervisedClassificationDataset`` (the wrapper every Avalanche
strategy accepts) over :class:`FERTensorDataset`, a tensor-backed dataset that keeps the uint8 images
as they are. Samples come out as float images normalised to ``[-1, 1]``, the label, and task label 0
(one head for every dataset: the domain-incremental setting of the paper).

:func:`cross_dataset_benchmark` makes one train experience per dataset and an index-aligned test
experience per dataset, so evaluating on ``benchmark.test_stream`` after any step measures every
dataset. Every experience knows its dataset: ``exp.dataset_name``.

Example:
    >>> from fer_avalanche import make_domain, cross_dataset_benchmark
    >>> source, target = make_domain("wild", n=700), make_domain("lab-a", n=140)
    >>> bm = cross_dataset_benchmark([source, target])
    >>> [exp.dataset_name for exp in bm.test_stream]
    ['synth-wild', 'synth-lab-a']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch.utils.data import Dataset

from fer_avalanche.data.ferdata import FERData
from fer_avalanche.errors import ConfigError, DatasetError
from fer_avalanche.labels import LabelSpace, get_label_space
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.benchmarks.scenarios.dataset_scenario import benchmark_from_datasets
    from avalanche.benchmarks.utils import DataAttribute
    from avalanche.benchmarks.utils.classification_dataset import TaskAwareSupervisedClassificationDataset

if TYPE_CHECKING:
    from avalanche.benchmarks import CLScenario, CLStream

__all__ = [
    "FERTensorDataset",
    "as_avalanche_dataset",
    "cross_dataset_benchmark",
    "class_incremental_benchmark",
    "class_groups",
    "class_group_names",
    "split_by_classes",
    "normalize",
    "MEAN",
    "STD",
]

#: Normalisation applied to ``uint8 / 255`` images: ``(x - MEAN) / STD`` maps [0, 1] to [-1, 1].
MEAN = 0.5
STD = 0.5


def normalize(images: torch.Tensor) -> torch.Tensor:
    """uint8 images (any device) -> float32 normalised to ``[-1, 1]``."""
    return images.float().mul_(1.0 / (255.0 * STD)).sub_(MEAN / STD)


class FERTensorDataset(Dataset):
    """A map-style dataset over uint8 image and label tensors (the leaf under every Avalanche dataset).

    ``dataset[i]`` is ``(normalised float image [1, H, W], label)``. The fast device loader reads the
    tensors directly instead of calling ``__getitem__`` (see :mod:`fer_avalanche.loaders`).
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, name: str = "") -> None:
        self.images = images
        self.targets = labels
        self.name = name
        self._on_device: dict[torch.device, torch.Tensor] = {}

    def __len__(self) -> int:
        return int(self.targets.shape[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return normalize(self.images[index]), int(self.targets[index])

    def images_on(self, device: torch.device) -> torch.Tensor:
        """The uint8 images resident on ``device`` (copied once, then reused)."""
        if device.type == "cpu":
            return self.images
        if device not in self._on_device:
            self._on_device[device] = self.images.to(device, non_blocking=True)
        return self._on_device[device]

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_on_device": {}}

    def __repr__(self) -> str:
        return f"FERTensorDataset(name={self.name!r}, n={len(self)}, size={tuple(self.images.shape[2:])})"


def as_avalanche_dataset(data: FERData, split: str | None = None) -> TaskAwareSupervisedClassificationDataset:
    """One split of ``data`` (or all of it) as an Avalanche classification dataset, task label 0.

    The result carries ``dataset_name``. Raises :class:`DatasetError` if the split is empty.
    """
    part = data if split is None else data.get_split(split)
    leaf = FERTensorDataset(part.images, part.labels, name=f"{data.name}/{split or 'all'}")
    n = len(part)
    ds = TaskAwareSupervisedClassificationDataset(
        [leaf],
        data_attributes=[
            DataAttribute(part.labels.tolist(), "targets"),
            DataAttribute([0] * n, "targets_task_labels", use_in_getitem=True),
        ],
    )
    return ds


def _name_experiences(stream: CLStream, names: Sequence[str]) -> None:
    for exp, name in zip(stream, names, strict=True):
        exp.dataset_name = name


def cross_dataset_benchmark(datasets: Sequence[FERData], with_validation: bool = False) -> CLScenario:
    """A benchmark with one train and one test experience per dataset, in the given order.

    Args:
        datasets: the source first, then the targets; names must be unique and label spaces equal.
        with_validation: also build ``valid_stream`` from each dataset's ``val`` split (every dataset
            must then have one).

    Returns:
        An Avalanche ``CLScenario`` with ``train_stream``, ``test_stream`` (and ``valid_stream``);
        its ``dataset_names`` attribute lists the datasets in order, and each experience has a
        ``dataset_name``.
    """
    if not datasets:
        raise ConfigError("cross_dataset_benchmark needs at least one dataset")
    names = [d.name for d in datasets]
    if len(set(names)) != len(names):
        raise ConfigError(f"dataset names must be unique, got {names}")
    spaces = {d.label_space.name for d in datasets}
    if len(spaces) != 1:
        raise ConfigError(f"all datasets must use the same label space, got {sorted(spaces)}")
    streams: dict[str, list] = {
        "train": [as_avalanche_dataset(d, "train") for d in datasets],
        "test": [as_avalanche_dataset(d, "test") for d in datasets],
    }
    if with_validation:
        streams["valid"] = [as_avalanche_dataset(d, "val") for d in datasets]
    bm = benchmark_from_datasets(**streams)
    for stream_name in streams:
        _name_experiences(getattr(bm, f"{stream_name}_stream"), names)
    bm.dataset_names = names
    bm.label_space = datasets[0].label_space
    return bm


def class_groups(
    classes_per_exp: Sequence[Sequence[int | str]] | int, label_space: str | LabelSpace = "basic7"
) -> list[list[int]]:
    """The class groups of a class-incremental split, as label indices, from the settings alone.

    An int ``k`` deals the label space's classes in label order into groups of ``k`` (the last group
    takes the remainder); explicit groups hold names or indices.

    Example:
        >>> class_groups(3)
        [[0, 1, 2], [3, 4, 5], [6]]
        >>> class_groups([["happy", "sad"], ["angry"]])
        [[3, 4], [0]]
    """
    space = get_label_space(label_space)
    if isinstance(classes_per_exp, int):
        if classes_per_exp < 1:
            raise ConfigError(f"classes_per_exp must be >= 1, got {classes_per_exp}")
        order = list(range(space.num_classes))
        return [order[i : i + classes_per_exp] for i in range(0, len(order), classes_per_exp)]
    groups = [[c if isinstance(c, int) else space.index(c) for c in g] for g in classes_per_exp]
    flat = [c for g in groups for c in g]
    if any(not g for g in groups):
        raise ConfigError("classes_per_exp has an empty group")
    if len(flat) != len(set(flat)):
        raise ConfigError(f"a class appears in two experiences: {classes_per_exp}")
    return groups


def class_group_names(
    name: str, classes_per_exp: Sequence[Sequence[int | str]] | int, label_space: str | LabelSpace = "basic7"
) -> list[str]:
    """``'<name>/<class>+<class>'`` for each class group (the experiences' dataset names).

    Example:
        >>> class_group_names("wild", 4)
        ['wild/angry+disgust+fear+happy', 'wild/sad+surprise+neutral']
    """
    space = get_label_space(label_space)
    return [f"{name}/{'+'.join(space.names[c] for c in g)}" for g in class_groups(classes_per_exp, space)]


def split_by_classes(data: FERData, classes_per_exp: Sequence[Sequence[int | str]] | int) -> list[FERData]:
    """One FERData per class group (:func:`class_groups`), named by :func:`class_group_names`.

    Raises:
        ConfigError: a group's classes have no samples in ``data``.
    """
    groups = class_groups(classes_per_exp, data.label_space)
    names = class_group_names(data.name, classes_per_exp, data.label_space)
    present = set(torch.unique(data.labels).tolist())
    parts = []
    for group, part_name in zip(groups, names, strict=True):
        missing = [data.label_space.names[c] for c in group if c not in present]
        if missing:
            raise ConfigError(f"classes {missing} have no samples in {data.name!r}")
        parts.append(data.subset(torch.isin(data.labels, torch.tensor(group)), name=part_name))
    return parts


def class_incremental_benchmark(
    data: FERData,
    classes_per_exp: Sequence[Sequence[int | str]] | int,
    seed: int | None = None,
) -> CLScenario:
    """Class-incremental ("NC") split of one dataset: each experience holds some expression classes.

    Args:
        data: a FERData with train and test splits.
        classes_per_exp: either explicit groups (``[["happy", "sad"], [0, 2], ...]``: names or label
            indices, each class at most once) or an int ``k``: the classes present, in label order
            (shuffled with ``seed`` if given), dealt into groups of ``k``; the last group holds the
            remainder, so no class is ever dropped.
        seed: shuffle the class order (only with an int ``classes_per_exp``).

    Returns:
        A ``CLScenario`` whose train/test experiences hold only their classes; each experience has
        ``classes_in_this_experience`` and ``dataset_name`` (``'<name>/<classes>'``).
    """
    present = sorted(torch.unique(data.labels).tolist())
    names = data.label_space.names
    if isinstance(classes_per_exp, int):
        if classes_per_exp < 1:
            raise ConfigError(f"classes_per_exp must be >= 1, got {classes_per_exp}")
        order = list(present)
        if seed is not None:
            order = [order[i] for i in np.random.default_rng(seed).permutation(len(order))]
        groups = [order[i : i + classes_per_exp] for i in range(0, len(order), classes_per_exp)]
    else:
        groups = class_groups(classes_per_exp, data.label_space)
        flat = [c for g in groups for c in g]
        missing = [c for c in flat if c not in present]
        if missing:
            raise ConfigError(f"classes {[names[c] for c in missing]} have no samples in {data.name!r}")
    streams: dict[str, list] = {"train": [], "test": []}
    exp_names = []
    for group in groups:
        mask = torch.isin(data.labels, torch.tensor(group))
        part = data.subset(mask, name=f"{data.name}/{'+'.join(names[c] for c in group)}")
        exp_names.append(part.name)
        for split in streams:
            try:
                streams[split].append(as_avalanche_dataset(part, split))
            except DatasetError as exc:
                raise DatasetError(f"class-incremental experience {part.name!r}: {exc}") from None
    bm = benchmark_from_datasets(**streams)
    for stream_name in streams:
        stream = getattr(bm, f"{stream_name}_stream")
        _name_experiences(stream, exp_names)
        for exp, group in zip(stream, groups, strict=True):
            exp.classes_in_this_experience = list(group)
    bm.dataset_names = exp_names
    bm.label_space = data.label_space
    bm.classes_per_exp = groups
    return bm
