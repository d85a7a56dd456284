"""Decoding and preprocessing of single face images: the one place loaders turn files into arrays.

``read_grey`` decodes any image Pillow reads (grey, palette, colour, 16-bit, TIFF/PNG/JPEG) into a
``uint8`` 2-D array and turns decoding failures into :class:`~fer_avalanche.errors.DatasetError`
naming the file. ``preprocess`` crops the face (``none``, ``center``, ``detect`` or an explicit box)
and resizes to the model's input size.

Example:
    >>> from fer_avalanche.data.imageio import read_grey, preprocess
    >>> grey = read_grey("KA.AN1.39.tiff")  # doctest: +SKIP
    >>> face = preprocess(grey, size=48, face_crop="center")  # doctest: +SKIP
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from fer_avalanche.errors import ConfigError, DatasetError

__all__ = ["read_grey", "preprocess", "FACE_CROPS", "IMAGE_SUFFIXES", "to_grey"]

#: File suffixes treated as images by folder-walking loaders (lower case).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".pgm", ".ppm"})

#: Face-crop modes accepted by :func:`preprocess`.
FACE_CROPS = ("none", "center", "detect")

#: Fraction of the shorter side kept by the ``center`` crop.
CENTER_CROP_FRACTION = 0.75


def to_grey(image: Image.Image) -> np.ndarray:
    """A PIL image of any mode as a ``uint8`` grey 2-D array (palette and alpha handled)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(image, dtype=np.float64)
        hi = arr.max() or 1.0
        return np.clip(arr / hi * 255.0, 0, 255).astype(np.uint8)
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode != "L":
        image = image.convert("L")
    return np.asarray(image, dtype=np.uint8)


def read_grey(path: str | Path) -> np.ndarray:
    """Decode the image file ``path`` to a ``uint8`` grey array ``[H, W]``.

    Raises:
        DatasetError: the file is missing, not an image, or truncated; the message names it.
    """
    path = Path(path)
    try:
        with Image.open(path) as image:
            image.load()
            return to_grey(image)
    except FileNotFoundError:
        raise DatasetError(f"{path}: image file not found") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise DatasetError(f"{path}: cannot decode image ({exc})") from None


def _center_box(h: int, w: int) -> tuple[int, int, int, int]:
    side = int(round(min(h, w) * CENTER_CROP_FRACTION))
    return (w - side) // 2, (h - side) // 2, side, side


@lru_cache(maxsize=1)
def _cascade() -> Any:
    try:
        import cv2
    except ImportError:
        raise ConfigError(
            "face_crop='detect' needs OpenCV's Haar cascades: pip install 'fer-avalanche[detect]' "
            "(opencv-python-headless<5), or use face_crop='center' or 'none'"
        ) from None
    cascade = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"))
    if cascade.empty():
        raise ConfigError(
            "OpenCV's frontal-face Haar cascade could not be loaded (opencv 5 removed them; use opencv<5)"
        )
    return cascade


def detect_face(grey: np.ndarray) -> tuple[int, int, int, int] | None:
    """Largest frontal face box ``(x, y, w, h)`` found by OpenCV's Haar cascade, or ``None``."""
    min_side = max(24, min(grey.shape) // 8)
    boxes = _cascade().detectMultiScale(grey, 1.1, 5, minSize=(min_side, min_side))
    if len(boxes) == 0:
        return None
    x, y, w, h = max(boxes, key=lambda b: int(b[2]) * int(b[3]))
    return int(x), int(y), int(w), int(h)


def preprocess(
    grey: np.ndarray,
    size: int = 48,
    face_crop: str = "none",
    box: tuple[int, int, int, int] | None = None,
) -> np.ndarray:
    """Crop the face and resize a grey image to ``size x size`` (``uint8``).

    Args:
        grey: ``uint8`` array ``[H, W]``.
        size: output side in pixels.
        face_crop: ``'none'`` (whole frame), ``'center'`` (a centred square of 75% of the shorter
            side), or ``'detect'`` (OpenCV Haar cascade, falling back to ``center`` when no face is
            found). Ignored when ``box`` is given.
        box: an explicit face box ``(x, y, w, h)`` (AffectNet ships them); clipped to the image.
    """
    if face_crop not in FACE_CROPS:
        raise ConfigError(f"face_crop must be one of {', '.join(FACE_CROPS)}, got {face_crop!r}")
    h, w = grey.shape
    if box is None and face_crop == "center":
        box = _center_box(h, w)
    elif box is None and face_crop == "detect":
        box = detect_face(grey) or _center_box(h, w)
    if box is not None:
        x, y, bw, bh = (int(v) for v in box)
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(w, x + bw), min(h, y + bh)
        if x1 - x0 >= 2 and y1 - y0 >= 2:
            grey = grey[y0:y1, x0:x1]
    if grey.shape != (size, size):
        grey = np.asarray(
            Image.fromarray(grey).resize((size, size), Image.Resampling.BILINEAR), dtype=np.uint8
        )
    return np.ascontiguousarray(grey)
