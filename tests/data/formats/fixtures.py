"""Helpers that write small datasets in their real on-disk formats into a test's ``tmp_path``.

Generic on purpose (any loader test may import them): images written with Pillow, CSV files,
corrupt and truncated image files, and FER2013-style pixel rows. Nothing here is committed data.

Example:
    >>> from fixtures import write_image
    >>> write_image(tmp_path / "happy" / "a.png", size=(64, 64))  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import gzip
import io
import tarfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = [
    "image_array",
    "write_image",
    "write_corrupt_image",
    "write_truncated_image",
    "write_csv",
    "pixels_string",
    "fer2013_rows",
    "write_fer2013_csv",
    "write_tar",
    "grey_of",
    "resized",
    "crop_of",
]


def image_array(size: tuple[int, int] = (64, 64), mode: str = "L", seed: int = 0) -> np.ndarray:
    """Deterministic random pixels for an image of ``size`` = (width, height) in ``mode``."""
    w, h = size
    rng = np.random.default_rng(seed)
    channels = {"L": 1, "P": 1, "RGB": 3, "RGBA": 4}.get(mode, 1)
    shape = (h, w) if channels == 1 else (h, w, channels)
    return rng.integers(0, 256, size=shape, dtype=np.uint8)


def write_image(
    path: str | Path, size: tuple[int, int] = (64, 64), mode: str = "L", seed: int = 0, fmt: str | None = None
) -> Path:
    """Write a random image of ``size`` = (width, height) in ``mode`` (``L``, ``RGB``, ``RGBA``, ``P``,
    ``I;16``) to ``path`` (format from the suffix unless ``fmt``); parent folders are created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode == "I;16":
        arr = (image_array(size, "L", seed).astype(np.uint16) * 257).astype(np.uint16)
        image = Image.fromarray(arr)  # uint16 -> mode I;16
    elif mode == "P":
        image = Image.fromarray(image_array(size, "L", seed), mode="L").convert("P")
    else:
        image = Image.fromarray(image_array(size, mode, seed), mode=mode)
    image.save(path, format=fmt)
    return path


def write_corrupt_image(path: str | Path) -> Path:
    """Write bytes that are no image at all under an image file name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not an image\x00\x01\x02" * 8)
    return path


def write_truncated_image(path: str | Path, size: tuple[int, int] = (64, 64), keep: float = 0.4) -> Path:
    """Write a valid image, then cut the file to ``keep`` of its bytes (a download that stopped)."""
    path = write_image(path, size=size)
    data = path.read_bytes()
    path.write_bytes(data[: max(16, int(len(data) * keep))])
    return path


def write_csv(path: str | Path, header: Sequence[str] | None, rows: Iterable[Sequence[object]]) -> Path:
    """Write a CSV (``header`` may be None for headerless files such as FER+'s ``label.csv``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        if header is not None:
            writer.writerow(header)
        writer.writerows(rows)
    return path


def pixels_string(pixels: np.ndarray) -> str:
    """FER2013's pixel field: the values space-separated, row-major."""
    return " ".join(str(int(v)) for v in np.asarray(pixels).ravel())


def fer2013_rows(
    per_usage: dict[str, Sequence[int]] | None = None, side: int = 48, seed: int = 0
) -> list[tuple[int, np.ndarray, str]]:
    """Rows ``(emotion, pixels [side, side] uint8, usage)``.

    ``per_usage`` maps a Usage to the emotions of its rows, in order; by default 14 Training rows
    (each emotion twice), 7 PublicTest and 7 PrivateTest rows.
    """
    if per_usage is None:
        per_usage = {
            "Training": list(range(7)) * 2,
            "PublicTest": list(range(7)),
            "PrivateTest": list(range(7)),
        }
    rng = np.random.default_rng(seed)
    return [
        (emotion, rng.integers(0, 256, size=(side, side), dtype=np.uint8), usage)
        for usage, emotions in per_usage.items()
        for emotion in emotions
    ]


def write_fer2013_csv(
    path: str | Path,
    rows: Sequence[tuple[int, np.ndarray, str]],
    columns: Sequence[str] = ("emotion", "pixels", "Usage"),
    sep: str = ",",
    newline: str = "\n",
    compress: bool | None = None,
) -> Path:
    """Write FER2013-style rows with the given column order (``emotion``, ``pixels``, ``Usage``).

    ``sep=", "`` writes the icml_face_data.csv variant; ``compress`` (default: suffix ``.gz``) gzips.
    Raw strings may be passed as pixels to write malformed rows.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [sep.join(columns)]
    for emotion, pixels, usage in rows:
        fields = {
            "emotion": str(emotion),
            "pixels": pixels if isinstance(pixels, str) else pixels_string(pixels),
            "usage": usage,
        }
        lines.append(sep.join(fields[c.strip().lower()] for c in columns))
    data = (newline.join(lines) + newline).encode()
    if compress or (compress is None and path.suffix == ".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def write_tar(path: str | Path, members: dict[str, bytes]) -> Path:
    """Write a tar archive (``.tar.gz`` compressed by suffix) holding ``{member name: content}``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "w:gz" if path.name.endswith((".tar.gz", ".tgz")) else "w"
    with tarfile.open(path, mode) as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return path


def grey_of(path: str | Path) -> np.ndarray:
    """The file decoded the way the loaders decode it (Pillow, converted to ``L``)."""
    with Image.open(path) as image:
        return np.asarray(image.convert("L"))


def resized(grey: np.ndarray, size: int = 48) -> np.ndarray:
    """``grey`` resized to ``size x size`` the way the loaders resize (Pillow bilinear)."""
    if grey.shape == (size, size):
        return grey
    return np.asarray(
        Image.fromarray(np.ascontiguousarray(grey)).resize((size, size), Image.Resampling.BILINEAR)
    )


def crop_of(path: str | Path, rows: tuple[int, int], cols: tuple[int, int], size: int = 48) -> np.ndarray:
    """The image at ``path`` cut to ``[rows[0]:rows[1], cols[0]:cols[1]]`` and resized: what a loader's
    crop must give (tests state the offsets by hand, so swapped or shifted offsets fail)."""
    return resized(grey_of(path)[rows[0] : rows[1], cols[0] : cols[1]], size)
