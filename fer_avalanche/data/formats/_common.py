"""Shared machinery of the image-file loaders: samples found on disk -> decoded, cached FERData.

A loader receives the shared settings as one :class:`LoadSettings` and its own options as keywords.
Its module only knows its layout: it walks ``root``, and for each image produces a :class:`Sample`
(path, the dataset's own label code, optional subject, group, split and face box). Then
:func:`build_from_samples` maps the codes into the label space (codes outside it, e.g. contempt in
``basic7``, are dropped and counted), decodes every image in a thread pool, frames the face (the
detector is set up in the calling thread before the pool starts), resizes, skips corrupt files when
asked (counted by reason), records provenance (with the number of faces detected and of fallbacks)
and caches the result.

Example (inside a loader):
    >>> settings = settings.with_default_crop("auto", "jaffe")  # doctest: +SKIP
    >>> samples = [Sample(path, code="AN", subject="KA") for path in files]  # doctest: +SKIP
    >>> return build_from_samples("jaffe", root, samples, {"AN": "angry", ...}, settings)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import warnings
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fer_avalanche.checks import is_int
from fer_avalanche.data.cache import cached_load
from fer_avalanche.data.ferdata import FERData, split_code
from fer_avalanche.data.imageio import (
    DETECT_FALLBACKS,
    DETECT_INSTALL,
    FACE_CROPS,
    IMAGE_SUFFIXES,
    FaceDetector,
    frame_face,
    opencv_available,
    read_grey,
)
from fer_avalanche.errors import ConfigError, DatasetError, LabelError
from fer_avalanche.labels import BASIC7, LabelSpace, get_label_space

__all__ = [
    "Sample",
    "LoadSettings",
    "build_from_samples",
    "require_dir",
    "require_file",
    "list_images",
    "subject_ids",
    "group_ids",
    "frame_images",
    "detection_facts",
    "describe_folder",
    "warn_skipped",
    "source_size_facts",
]


@dataclass(frozen=True)
class Sample:
    """One image found on disk: its file, label code, and what else the layout tells.

    ``group`` names the sequence or take the image belongs to (frames that every split keeps
    together); ``None`` makes the image a group of its own.
    """

    path: Path
    code: Hashable
    subject: str | None = None
    split: str | None = None
    box: tuple[int, int, int, int] | None = None
    group: str | None = None


@dataclass(frozen=True)
class LoadSettings:
    """The settings every loader shares, validated once (:func:`~fer_avalanche.data.registry.load_dataset`).

    Attributes:
        label_space: the label space to map labels into.
        image_size: side of the square output images.
        face_crop: ``none``, ``center``, ``detect``, ``auto`` (detect when OpenCV is importable, else
            center with a warning), or ``None``: the format's default (see the README's Datasets table).
        face_margin: the face box grown (> 1) or shrunk (< 1) by this factor before cropping.
        detect_fallback: ``center`` (crop the centre when no face is found) or ``skip`` (drop the image,
            counted in ``provenance["skipped"]``).
        skip_corrupt: skip (and count) unreadable files instead of failing.
        cache_dir: decode cache folder (default ``$FER_AVALANCHE_CACHE`` or ``~/.cache/fer-avalanche``).
        use_cache: read and write the decode cache.

    Example:
        >>> s = LoadSettings.make(image_size=64, face_crop="center")
        >>> s.image_size, s.face_crop, s.label_space.name
        (64, 'center', 'basic7')
    """

    label_space: LabelSpace = BASIC7
    image_size: int = 48
    face_crop: str | None = None
    face_margin: float = 1.0
    detect_fallback: str = "center"
    skip_corrupt: bool = False
    cache_dir: str | Path | None = None
    use_cache: bool = True

    @classmethod
    def make(
        cls,
        label_space: str | LabelSpace = "basic7",
        image_size: int = 48,
        face_crop: str | None = None,
        face_margin: float = 1.0,
        detect_fallback: str = "center",
        skip_corrupt: bool = False,
        cache_dir: str | Path | None = None,
        use_cache: bool = True,
    ) -> LoadSettings:
        """Validate and build the settings (raises ConfigError naming a bad one)."""
        if not is_int(image_size) or not 8 <= image_size <= 512:
            raise ConfigError(f"image_size must be an integer in 8..512, got {image_size!r}")
        if face_crop is not None and face_crop not in FACE_CROPS:
            raise ConfigError(f"face_crop must be one of {', '.join(FACE_CROPS)}, got {face_crop!r}")
        if (
            isinstance(face_margin, bool)
            or not isinstance(face_margin, int | float)
            or not 0.2 <= face_margin <= 4.0
        ):
            raise ConfigError(
                f"face_margin must be a number in 0.2..4.0 (1 = the face box), got {face_margin!r}"
            )
        if detect_fallback not in DETECT_FALLBACKS:
            raise ConfigError(
                f"detect_fallback must be one of {', '.join(DETECT_FALLBACKS)}, got {detect_fallback!r}"
            )
        return cls(
            get_label_space(label_space),
            image_size,
            face_crop,
            float(face_margin),
            detect_fallback,
            bool(skip_corrupt),
            cache_dir,
            bool(use_cache),
        )

    def with_default_crop(self, default: str, dataset: str) -> LoadSettings:
        """These settings with ``face_crop`` resolved: ``None`` -> ``default``, then ``auto`` ->
        ``detect`` when OpenCV is importable, else ``center`` with a warning saying how to get it."""
        crop = self.face_crop if self.face_crop is not None else default
        if crop == "auto":
            if opencv_available():
                crop = "detect"
            else:
                warnings.warn(
                    f"{dataset}: OpenCV is not installed, so faces are centre-cropped instead of detected; "
                    f"{DETECT_INSTALL} to detect them (or pass face_crop='center' to silence this)",
                    stacklevel=3,
                )
                crop = "center"
        return dataclasses.replace(self, face_crop=crop)

    @property
    def crop(self) -> str:
        """The resolved face crop (``none`` when a loader did not resolve it)."""
        return self.face_crop if self.face_crop in FACE_CROPS[:3] else "none"

    def frame(
        self, grey: np.ndarray, detector: FaceDetector | None, box: tuple[int, int, int, int] | None = None
    ) -> tuple[np.ndarray | None, str]:
        """Frame one decoded grey image with these settings (see
        :func:`~fer_avalanche.data.imageio.frame_face`): the square output image, or ``None`` when
        ``detect_fallback="skip"`` dropped it, and how it was framed."""
        return frame_face(
            grey,
            self.image_size,
            self.crop,
            box=box,
            margin=self.face_margin,
            fallback=self.detect_fallback,
            detector=detector,
        )

    def detector(self) -> FaceDetector | None:
        """The face detector when ``detect`` is on (create it in the main thread), else ``None``."""
        return FaceDetector() if self.crop == "detect" else None

    def key(self, detector: FaceDetector | None = None) -> dict[str, Any]:
        """The settings that change what is decoded (the cache key part; ``detector`` adds its own)."""
        key: dict[str, Any] = {
            "label_space": self.label_space.name,
            "image_size": self.image_size,
            "face_crop": self.crop,
            "skip_corrupt": self.skip_corrupt,
            "face_margin": self.face_margin,
        }
        if self.crop == "detect":
            key["detect_fallback"] = self.detect_fallback
            key["detector"] = (detector or FaceDetector()).key()
        return key


#: The names of :class:`LoadSettings`' fields: the settings ``load_dataset`` passes as one object.
SETTING_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(LoadSettings))


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


def match_expression(
    pattern: re.Pattern[str], path: Path, codes: Mapping[str, str], dataset: str
) -> re.Match[str] | None:
    """``pattern`` matched against ``path``'s file name (``None``: no match); the match's ``expr`` group
    must be a code of ``codes`` (upper-cased), else a LabelError naming the file and the codes.

    Example:
        >>> name = re.compile(r"(?P<expr>[a-z]+)_")
        >>> match_expression(name, Path("ha_01.png"), {"HA": "happy"}, "X")["expr"]
        'ha'
    """
    match = pattern.match(path.name)
    if match is not None and match["expr"].upper() not in codes:
        raise LabelError(
            f"{path}: unknown {dataset} expression code {match['expr']!r} "
            f"(expected one of {', '.join(codes)})"
        )
    return match


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


def group_ids(groups: Sequence[str | None]) -> torch.Tensor | None:
    """Map group names to ids (sorted order); a sample without a group gets a group of its own;
    ``None`` when no sample has a group.

    Example:
        >>> group_ids(["S005/001", "S005/001", None, "S010/002"]).tolist()
        [0, 0, 2, 1]
    """
    if not groups or all(g is None for g in groups):
        return None
    names = sorted({g for g in groups if g is not None})
    index = {name: i for i, name in enumerate(names)}
    ids, spare = [], len(names)
    for g in groups:
        if g is None:
            ids.append(spare)
            spare += 1
        else:
            ids.append(index[g])
    return torch.tensor(ids, dtype=torch.long)


def warn_skipped(name: str, skipped: Mapping[str, int]) -> None:
    """One warning summarising what a loader skipped."""
    if skipped:
        detail = ", ".join(f"{count} {reason}" for reason, count in sorted(skipped.items()))
        warnings.warn(f"{name}: skipped {detail}", stacklevel=3)


#: The reason counted in ``provenance["skipped"]`` for images dropped by ``detect_fallback="skip"``.
NO_FACE = "no face detected"


def detection_facts(hows: Mapping[str, int], settings: LoadSettings) -> dict[str, Any]:
    """Provenance of the framing: ``{"face_detection": {"detected": n, "fallback": m}}`` with ``detect``
    (``fallback`` counts the images centre-cropped or skipped because no face was found), else
    ``{"face_detection": None}``.

    Example:
        >>> detection_facts({"detected": 5, "fallback": 1}, LoadSettings.make(face_crop="detect"))
        {'face_detection': {'detected': 5, 'fallback': 1}}
    """
    if settings.crop != "detect":
        return {"face_detection": None}
    return {
        "face_detection": {"detected": int(hows.get("detected", 0)), "fallback": int(hows.get("fallback", 0))}
    }


def decode_workers() -> int:
    """Threads for decoding and framing images (I/O and OpenCV release the GIL)."""
    return min(8, (os.cpu_count() or 1) * 2)


def frame_images(
    images: np.ndarray, settings: LoadSettings, detector: FaceDetector | None
) -> tuple[np.ndarray, np.ndarray, Counter[str]]:
    """Frame and resize decoded grey images ``[N, H, W]`` (the array-based loaders: FER2013, FER+ CSV).

    Returns the framed images of the kept samples, the boolean mask of kept samples (``False`` where
    ``detect_fallback="skip"`` dropped an image) and how each was framed (see
    :func:`~fer_avalanche.data.imageio.frame_face`). Images already at the output size with
    ``face_crop='none'`` are returned as they are.
    """
    n, h, w = images.shape
    if settings.crop == "none" and h == w == settings.image_size:
        return images, np.ones(n, dtype=bool), Counter({"frame": n})

    with ThreadPoolExecutor(decode_workers()) as pool:
        results = list(pool.map(lambda img: settings.frame(img, detector), images))
    keep = np.array([image is not None for image, _ in results], dtype=bool)
    hows = Counter(how for _, how in results)
    framed = [image for image, _ in results if image is not None]
    out = np.stack(framed) if framed else np.empty((0, settings.image_size, settings.image_size), np.uint8)
    return out, keep, hows


def _samples_digest(kept: Sequence[tuple[Sample, int]], extra: Mapping[str, Any]) -> str:
    """Hash of what the loader decided per sample (label, subject, group, split, box) and of its
    provenance facts: part of the cache key, so editing a label file or a face box invalidates the cache
    even though no image file changed."""
    h = hashlib.sha256(json.dumps(dict(extra), sort_keys=True, default=str).encode())
    for sample, label in kept:
        h.update(
            f"{sample.path}|{label}|{sample.subject}|{sample.split}|{sample.box}|{sample.group}\n".encode()
        )
    return h.hexdigest()[:24]


Decoded = tuple[np.ndarray | None, str, tuple[int, int]]


def _decode(sample: Sample, settings: LoadSettings, detector: FaceDetector | None) -> Decoded | DatasetError:
    """The framed image (``None`` when skipped for want of a face), how it was framed, and the
    ``(H, W)`` of the file before preprocessing; or the decoding error."""
    try:
        grey = read_grey(sample.path)
    except DatasetError as exc:
        return exc
    image, how = settings.frame(grey, detector, box=sample.box)
    return image, how, grey.shape


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
        settings: the validated :class:`LoadSettings`, its ``face_crop`` resolved
            (:meth:`LoadSettings.with_default_crop`).
        format_name: cache namespace (defaults to ``name``).
        extra_provenance: more facts to record (layout found, label rule, ...).
        skipped: counts of files the loader already skipped while walking, by reason.

    Raises:
        DatasetError: no samples, an unknown label code (names the file), or a corrupt image when
            ``skip_corrupt`` is off.
        ConfigError: ``detect`` without OpenCV (the message says what to install).
    """
    samples = list(samples)
    if not samples:
        raise DatasetError(f"{root}: no images found for dataset {name!r}")
    settings = settings.with_default_crop("none", name)  # a loader that left face_crop unresolved
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

    detector = settings.detector()  # OpenCV imported and the cascade loaded here, before the pool

    def build() -> FERData:
        with ThreadPoolExecutor(decode_workers()) as pool:
            decoded = list(pool.map(lambda item: _decode(item[0], settings, detector), kept))
        images, labels, subjects, splits, groups = [], [], [], [], []
        corrupt = Counter(dropped)
        sizes: Counter[tuple[int, int]] = Counter()
        hows: Counter[str] = Counter()
        for (sample, label), result in zip(kept, decoded, strict=True):
            if isinstance(result, DatasetError):
                if not settings.skip_corrupt:
                    raise DatasetError(f"{result} (pass skip_corrupt=True to skip such files)")
                corrupt["unreadable image"] += 1
                warnings.warn(f"skipping {result}", stacklevel=4)
                continue
            image, how, size = result
            sizes[size] += 1
            hows[how] += 1
            if image is None:
                corrupt[NO_FACE] += 1
                continue
            images.append(image)
            labels.append(label)
            subjects.append(sample.subject)
            groups.append(sample.group)
            splits.append(split_code(sample.split) if sample.split else 0)
        if not images:
            reason = (
                " (no face detected in any; try detect_fallback='center')" if hows.get("fallback") else ""
            )
            raise DatasetError(f"{root}: no readable images for dataset {name!r}{reason}")
        provenance = {
            "format": format_name or name,
            "root": str(root),
            "files_found": len(samples),
            "skipped": dict(corrupt),
            "preprocessing": settings.key(detector),
            **detection_facts(hows, settings),
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
            groups=group_ids(groups),
            label_space=settings.label_space,
            provenance=provenance,
        )

    data = cached_load(
        format_name or name,
        [s.path for s, _ in kept],
        {
            **settings.key(detector),
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
