"""Shared machinery of the image-file loaders: samples found on disk -> decoded, cached FERData.

A loader's own module only knows its layout: it walks ``root``, and for each image produces a
:class:`Sample` (path, the dataset's own label code, optional subject, split and face box). Then
:func:`build_from_samples` maps the codes into the label space (codes outside it, e.g. contempt in
``basic7``, are dropped and counted), decodes every image in a thread pool, crops and resizes, skips
corrupt files when asked (counted by reason), records provenance and caches the result.

Example (inside a loader):
    >>> samples = [Sample(path, code="AN", subject="KA") for path in files]  # doctest: +SKIP
    >>> return build_from_samples("jaffe", root, samples, {"AN": "angry", ...}, **settings)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fer_avalanche.data.cache import cached_load
from fer_avalanche.data.ferdata import FERData, split_code
from fer_avalanche.data.imageio import FACE_CROPS, IMAGE_SUFFIXES, preprocess, read_grey
from fer_avalanche.errors import ConfigError, DatasetError, LabelError
from fer_avalanche.labels import LabelSpace, get_label_space

__all__ = [
    "Sample",
    "LoadSettings",
    "build_from_samples",
    "require_dir",
    "require_file",
    "list_images",
    "subject_ids",
    "describe_folder",
    "warn_skipped",
    "source_size_facts",
]


@dataclass(frozen=True)
class Sample:
    """One image found on disk: its file, label code, and what else the layout tells."""

    path: Path
    code: Hashable
    subject: str | None = None
    split: str | None = None
    box: tuple[int, int, int, int] | None = None


@dataclass(frozen=True)
class LoadSettings:
    """Settings every loader accepts (see :func:`fer_avalanche.data.registry.load_dataset`)."""

    label_space: LabelSpace
    image_size: int = 48
    face_crop: str = "none"
    skip_corrupt: bool = False
    cache_dir: str | Path | None = None
    use_cache: bool = True

    @classmethod
    def make(
        cls,
        label_space: str | LabelSpace = "basic7",
        image_size: int = 48,
        face_crop: str = "none",
        skip_corrupt: bool = False,
        cache_dir: str | Path | None = None,
        use_cache: bool = True,
    ) -> LoadSettings:
        """Validate and build the settings (raises ConfigError naming a bad one)."""
        if not isinstance(image_size, int) or not 8 <= image_size <= 512:
            raise ConfigError(f"image_size must be an integer in 8..512, got {image_size!r}")
        if face_crop not in FACE_CROPS:
            raise ConfigError(f"face_crop must be one of {', '.join(FACE_CROPS)}, got {face_crop!r}")
        return cls(
            get_label_space(label_space), image_size, face_crop, bool(skip_corrupt), cache_dir, use_cache
        )

    def key(self) -> dict[str, Any]:
        """The settings that change what is decoded (the cache key part)."""
        return {
            "label_space": self.label_space.name,
            "image_size": self.image_size,
            "face_crop": self.face_crop,
            "skip_corrupt": self.skip_corrupt,
        }


def require_dir(root: Path, what: str) -> Path:
    """``root`` if it is a folder, else DatasetError saying what was expected there."""
    if not root.exists():
        raise DatasetError(f"{root}: folder not found (expected {what})")
    if not root.is_dir():
        raise DatasetError(f"{root}: is a file, expected a folder holding {what}")
    return root


def require_file(path: Path, what: str) -> Path:
    """``path`` if it is a file, else DatasetError saying what was expected."""
    if not path.is_file():
        raise DatasetError(f"{path}: file not found (expected {what})")
    return path


def list_images(folder: Path, recursive: bool = True) -> list[Path]:
    """Image files under ``folder`` (by suffix, case-insensitive), sorted; hidden files ignored."""
    pattern = folder.rglob("*") if recursive else folder.glob("*")
    return sorted(
        p
        for p in pattern
        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file() and not p.name.startswith(".")
    )


def describe_folder(folder: Path | Sequence[str], limit: int = 8) -> str:
    """What a folder (or a list of names) holds, for error messages: ``'a.png, b/, c.txt (+3 more)'``."""
    if isinstance(folder, Path):
        names = sorted(
            p.name + ("/" if p.is_dir() else "") for p in folder.iterdir() if not p.name.startswith(".")
        )
    else:
        names = list(folder)
    if not names:
        return "nothing (empty folder)"
    more = f" (+{len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def subject_ids(subjects: Sequence[str | None]) -> torch.Tensor | None:
    """Map subject names to ids ``0..S-1`` (sorted order); ``None`` if any sample lacks a subject."""
    if not subjects or any(s is None for s in subjects):
        return None
    names = sorted(set(subjects))  # type: ignore[arg-type]
    index = {name: i for i, name in enumerate(names)}
    return torch.tensor([index[s] for s in subjects], dtype=torch.long)


def warn_skipped(name: str, skipped: Mapping[str, int]) -> None:
    """One warning summarising what a loader skipped."""
    if skipped:
        detail = ", ".join(f"{count} {reason}" for reason, count in sorted(skipped.items()))
        warnings.warn(f"{name}: skipped {detail}", stacklevel=3)


def _samples_digest(kept: Sequence[tuple[Sample, int]], extra: Mapping[str, Any]) -> str:
    """Hash of what the loader decided per sample (label, subject, split, box) and of its provenance
    facts: part of the cache key, so editing a label file or a face box invalidates the cache even
    though no image file changed."""
    h = hashlib.sha256(json.dumps(dict(extra), sort_keys=True, default=str).encode())
    for sample, label in kept:
        h.update(f"{sample.path}|{label}|{sample.subject}|{sample.split}|{sample.box}\n".encode())
    return h.hexdigest()[:24]


def _decode(sample: Sample, settings: LoadSettings) -> tuple[np.ndarray, tuple[int, int]] | DatasetError:
    """The preprocessed image and the ``(H, W)`` of the file before preprocessing, or the error."""
    try:
        grey = read_grey(sample.path)
        return preprocess(grey, settings.image_size, settings.face_crop, sample.box), grey.shape
    except DatasetError as exc:
        return exc


def source_size_facts(sizes: Counter[tuple[int, int]]) -> dict[str, Any]:
    """Provenance facts about the image sizes found before preprocessing.

    ``source_size`` is the most common ``[H, W]``; ``source_sizes`` maps ``"HxW"`` to a count for the
    (at most 5) most common sizes.

    Example:
        >>> source_size_facts(Counter({(48, 48): 3, (96, 96): 1}))
        {'source_size': [48, 48], 'source_sizes': {'48x48': 3, '96x96': 1}}
    """
    if not sizes:
        return {"source_size": None, "source_sizes": {}}
    common = sizes.most_common(5)
    return {
        "source_size": [int(common[0][0][0]), int(common[0][0][1])],
        "source_sizes": {f"{h}x{w}": int(n) for (h, w), n in common},
    }


def build_from_samples(
    name: str,
    root: Path,
    samples: Iterable[Sample],
    codes: Mapping[Hashable, str],
    settings: LoadSettings,
    format_name: str | None = None,
    extra_provenance: Mapping[str, Any] | None = None,
    skipped: Mapping[str, int] | None = None,
) -> FERData:
    """Decode ``samples`` into a FERData (cached).

    Args:
        name: dataset name (``'jaffe'``).
        root: the folder or file the user gave (recorded in provenance).
        samples: images found, with their dataset-specific ``code``.
        codes: ``{code: expression name}`` of the dataset (names in any known spelling).
        settings: the validated :class:`LoadSettings`.
        format_name: cache namespace (defaults to ``name``).
        extra_provenance: more facts to record (layout found, label rule, ...).
        skipped: counts of files the loader already skipped while walking, by reason.

    Raises:
        DatasetError: no samples, an unknown label code (names the file), or a corrupt image when
            ``skip_corrupt`` is off.
    """
    samples = list(samples)
    if not samples:
        raise DatasetError(f"{root}: no images found for dataset {name!r}")
    label_of = settings.label_space.map_codes(codes)
    kept: list[tuple[Sample, int]] = []
    dropped: Counter[str] = Counter(skipped or {})
    for sample in samples:
        if sample.code not in label_of:
            raise LabelError(
                f"{sample.path}: unknown label code {sample.code!r} for {name} "
                f"(expected one of {', '.join(map(str, codes))})"
            )
        label = label_of[sample.code]
        if label is None:
            dropped[f"outside {settings.label_space.name} ({codes[sample.code]})"] += 1
        else:
            kept.append((sample, label))
    if not kept:
        raise DatasetError(f"{root}: every image of {name!r} has a label outside {settings.label_space.name}")
    missing = [i for i, (sample, _) in enumerate(kept) if not sample.path.is_file()]
    if missing:  # a listed file that is not there (CSV lists, label files): corrupt-like, never a crash
        if not settings.skip_corrupt:
            raise DatasetError(
                f"{kept[missing[0]][0].path}: image file not found ({len(missing)} listed files missing; "
                "pass skip_corrupt=True to skip such files)"
            )
        gone = set(missing)
        warnings.warn(
            f"skipping {len(missing)} missing image files, e.g. {kept[missing[0]][0].path}", stacklevel=2
        )
        dropped["missing image file"] += len(missing)
        kept = [item for i, item in enumerate(kept) if i not in gone]
        if not kept:
            raise DatasetError(f"{root}: none of the images listed for {name!r} exists")

    def build() -> FERData:
        workers = min(8, (os.cpu_count() or 1) * 2)
        with ThreadPoolExecutor(workers) as pool:
            decoded = list(pool.map(lambda item: _decode(item[0], settings), kept))
        images, labels, subjects, splits = [], [], [], []
        corrupt = Counter(dropped)
        sizes: Counter[tuple[int, int]] = Counter()
        for (sample, label), result in zip(kept, decoded, strict=True):
            if isinstance(result, DatasetError):
                if not settings.skip_corrupt:
                    raise DatasetError(f"{result} (pass skip_corrupt=True to skip such files)")
                corrupt["unreadable image"] += 1
                warnings.warn(f"skipping {result}", stacklevel=4)
                continue
            image, size = result
            sizes[size] += 1
            images.append(image)
            labels.append(label)
            subjects.append(sample.subject)
            splits.append(split_code(sample.split) if sample.split else 0)
        if not images:
            raise DatasetError(f"{root}: no readable images for dataset {name!r}")
        provenance = {
            "format": format_name or name,
            "root": str(root),
            "files_found": len(samples),
            "skipped": dict(corrupt),
            "preprocessing": settings.key(),
            **source_size_facts(sizes),
            "split": "official" if any(s.split for s in samples) else "none (all train)",
            **(extra_provenance or {}),
        }
        return FERData(
            name=name,
            images=torch.from_numpy(np.stack(images)[:, None]),
            labels=torch.tensor(labels, dtype=torch.long),
            split=torch.tensor(splits, dtype=torch.long),
            subjects=subject_ids(subjects),
            label_space=settings.label_space,
            provenance=provenance,
        )

    data = cached_load(
        format_name or name,
        [s.path for s, _ in kept],
        {
            **settings.key(),
            "codes": {str(k): v for k, v in codes.items()},
            "n": len(samples),
            "samples": _samples_digest(kept, {"skipped": dict(dropped), **(extra_provenance or {})}),
        },
        build,
        settings.cache_dir,
        settings.use_cache,
    )
    warn_skipped(name, data.provenance.get("skipped", {}))
    return data
