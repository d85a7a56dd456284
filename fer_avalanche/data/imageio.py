"""Decoding and preprocessing of single face images: the one place loaders turn files into arrays.

``read_grey`` decodes any image Pillow reads (grey, palette, colour, 16-bit, TIFF/PNG/JPEG) into a
``uint8`` 2-D array and turns decoding failures into :class:`~fer_avalanche.errors.DatasetError`
naming the file. :func:`frame_face` crops the face and resizes it to the model's input size, saying
how it framed it.

Framing (``face_crop``), always to a **square** first, so no frame is ever squashed:

- ``none``: the whole frame, cut to its centred square (the shorter side);
- ``center``: a centred square of 75% of the shorter side (times ``margin``);
- ``detect``: the largest face OpenCV's frontal Haar cascade finds
  (``detectMultiScale(grey, 1.1, 5, minSize=...)`` with ``minSize`` 60/256 of the shorter side, at
  least 24 px), as a square of the box's side times ``margin`` around its centre; where no face is
  found, the ``center`` crop (``fallback="center"``) or nothing (``fallback="skip"``);
- an explicit box (AffectNet ships them): the square around it, times ``margin``.

A crop that would leave the image is shifted back inside it (and is at most the shorter side).

Thread safety: :class:`FaceDetector` imports OpenCV and loads the cascade when it is created (do it
in the main thread, before a thread pool starts: OpenCV's package bootstrap is not safe to run from
several threads at once), then gives each thread its own ``CascadeClassifier``.

Example:
    >>> from fer_avalanche.data.imageio import read_grey, frame_face
    >>> grey = read_grey("KA.AN1.39.tiff")  # doctest: +SKIP
    >>> face, how = frame_face(grey, size=48, face_crop="detect", detector=FaceDetector())  # doctest: +SKIP
    >>> how  # doctest: +SKIP
    'detected'
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from fer_avalanche.errors import ConfigError, DatasetError

if TYPE_CHECKING:
    from types import ModuleType

    import cv2


__all__ = [
    "read_grey",
    "to_grey",
    "frame_face",
    "square_box",
    "center_box",
    "frame_box",
    "FaceDetector",
    "load_opencv",
    "opencv_available",
    "FACE_CROPS",
    "DETECT_FALLBACKS",
    "DETECT_INSTALL",
    "IMAGE_SUFFIXES",
]

#: File suffixes treated as images by folder-walking loaders (lower case).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".pgm", ".ppm"})

#: Face-crop modes of the loaders; ``auto`` (``detect`` when OpenCV is importable, else ``center``
#: with a warning) is resolved by the loader, :func:`frame_face` takes the other three.
FACE_CROPS = ("none", "center", "detect", "auto")

#: What ``detect`` does with an image where no face is found.
DETECT_FALLBACKS = ("center", "skip")

#: How to get the detector.
DETECT_INSTALL = "pip install 'fer-avalanche[detect]' (that is, opencv-python-headless<5)"

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


def _clamp_square(cx: float, cy: float, side: float, h: int, w: int) -> tuple[int, int, int, int]:
    side_px = int(max(2, min(round(side), h, w)))
    x = int(min(max(0, round(cx - side_px / 2)), w - side_px))
    y = int(min(max(0, round(cy - side_px / 2)), h - side_px))
    return x, y, side_px, side_px


def square_box(
    box: tuple[int, int, int, int], h: int, w: int, margin: float = 1.0
) -> tuple[int, int, int, int]:
    """The square crop ``(x, y, side, side)`` around a face box ``(x, y, w, h)`` in an ``h x w`` image.

    The side is the box's longer side times ``margin`` (at most the image's shorter side), centred on
    the box and shifted inside the image.

    Example:
        >>> square_box((10, 20, 40, 30), 100, 200), square_box((10, 20, 40, 30), 100, 200, margin=1.5)
        ((10, 15, 40, 40), (0, 5, 60, 60))
    """
    x, y, bw, bh = (float(v) for v in box)
    return _clamp_square(x + bw / 2, y + bh / 2, max(bw, bh) * margin, h, w)


def center_box(h: int, w: int, margin: float = 1.0) -> tuple[int, int, int, int]:
    """The ``center`` crop of an ``h x w`` image: a centred square of 75% of the shorter side x ``margin``.

    Example:
        >>> center_box(40, 32)  # side round(32 * 0.75) = 24, offsets (32 - 24) // 2, (40 - 24) // 2
        (4, 8, 24, 24)
    """
    side = int(max(2, min(round(min(h, w) * CENTER_CROP_FRACTION * margin), h, w)))
    return (w - side) // 2, (h - side) // 2, side, side


def frame_box(h: int, w: int) -> tuple[int, int, int, int]:
    """The ``none`` crop: the centred square of the whole frame (side = the shorter side).

    Example:
        >>> frame_box(490, 640)
        (75, 0, 490, 490)
    """
    side = min(h, w)
    return (w - side) // 2, (h - side) // 2, side, side


def load_opencv() -> ModuleType:
    """Import OpenCV (call it in the main thread), or a ConfigError saying what to install."""
    try:
        import cv2
    except ImportError:
        raise ConfigError(
            f"face_crop='detect' needs OpenCV's Haar cascades: {DETECT_INSTALL}; or use face_crop='center' "
            "or 'none'"
        ) from None
    if not hasattr(cv2, "data") or not hasattr(cv2, "CascadeClassifier"):
        raise ConfigError(
            f"this OpenCV ({getattr(cv2, '__version__', '?')}) has no Haar cascades (cv2.data): "
            f"{DETECT_INSTALL}"
        )
    return cv2


def opencv_available() -> bool:
    """Whether :func:`load_opencv` succeeds (the ``auto`` crop then detects faces)."""
    try:
        load_opencv()
    except ConfigError:
        return False
    return True


class FaceDetector:
    """OpenCV's frontal-face Haar cascade, one classifier per thread.

    Create it in the main thread before decoding starts: the constructor imports OpenCV and loads the
    cascade once (a missing OpenCV is a clear :class:`~fer_avalanche.errors.ConfigError`); each thread
    that calls :meth:`detect` then gets its own ``CascadeClassifier`` (OpenCV does not promise that one
    is safe to share).

    Example:
        >>> detector = FaceDetector()  # doctest: +SKIP
        >>> detector.detect(grey)  # doctest: +SKIP
        (61, 42, 139, 139)
    """

    CASCADE = "haarcascade_frontalface_default.xml"
    SCALE_FACTOR = 1.1
    MIN_NEIGHBORS = 5
    #: ``minSize`` as a share of the shorter side (60 px on JAFFE's 256 px frames), at least 24 px.
    MIN_SIZE_FRACTION = 60 / 256
    MIN_SIZE_FLOOR = 24

    def __init__(self) -> None:
        cv2 = load_opencv()
        self._cv2 = cv2
        self.path = str(Path(cv2.data.haarcascades) / self.CASCADE)
        first = cv2.CascadeClassifier(self.path)
        if first.empty():
            raise ConfigError(
                f"OpenCV's frontal-face Haar cascade {self.path} could not be loaded (OpenCV 5 removed "
                f"them): {DETECT_INSTALL}"
            )
        self.version = str(cv2.__version__)
        self._local = threading.local()
        self._local.cascade = first

    def _classifier(self) -> cv2.CascadeClassifier:
        cascade = getattr(self._local, "cascade", None)
        if cascade is None:
            cascade = self._cv2.CascadeClassifier(self.path)
            self._local.cascade = cascade
        return cascade

    def min_size(self, h: int, w: int) -> int:
        """The ``minSize`` side used for an ``h x w`` image."""
        return max(self.MIN_SIZE_FLOOR, int(round(min(h, w) * self.MIN_SIZE_FRACTION)))

    def detect(self, grey: np.ndarray) -> tuple[int, int, int, int] | None:
        """Largest frontal face box ``(x, y, w, h)`` in a ``uint8`` grey image, or ``None``."""
        side = self.min_size(*grey.shape)
        if side > min(grey.shape):
            return None
        boxes = self._classifier().detectMultiScale(
            np.ascontiguousarray(grey), self.SCALE_FACTOR, self.MIN_NEIGHBORS, minSize=(side, side)
        )
        if len(boxes) == 0:
            return None
        x, y, w, h = max(boxes, key=lambda b: int(b[2]) * int(b[3]))
        return int(x), int(y), int(w), int(h)

    def key(self) -> dict[str, Any]:
        """What changes the detector's results (part of the decode cache key)."""
        return {
            "cascade": self.CASCADE,
            "scale_factor": self.SCALE_FACTOR,
            "min_neighbors": self.MIN_NEIGHBORS,
            "min_size": f"max({self.MIN_SIZE_FLOOR}, {self.MIN_SIZE_FRACTION:.4f} x shorter side)",
            "opencv": ".".join(self.version.split(".")[:2]),
        }


_DEFAULT_DETECTOR: FaceDetector | None = None
_DEFAULT_LOCK = threading.Lock()


def _default_detector() -> FaceDetector:
    global _DEFAULT_DETECTOR
    with _DEFAULT_LOCK:
        if _DEFAULT_DETECTOR is None:
            _DEFAULT_DETECTOR = FaceDetector()
        return _DEFAULT_DETECTOR


def _crop_resize(grey: np.ndarray, box: tuple[int, int, int, int], size: int) -> np.ndarray:
    x, y, bw, bh = box
    grey = grey[y : y + bh, x : x + bw]
    if grey.shape != (size, size):
        grey = np.asarray(
            Image.fromarray(np.ascontiguousarray(grey)).resize((size, size), Image.Resampling.BILINEAR),
            dtype=np.uint8,
        )
    return np.ascontiguousarray(grey)


def frame_face(
    grey: np.ndarray,
    size: int = 48,
    face_crop: str = "none",
    *,
    box: tuple[int, int, int, int] | None = None,
    margin: float = 1.0,
    fallback: str = "center",
    detector: FaceDetector | None = None,
) -> tuple[np.ndarray | None, str]:
    """Crop a grey image to a square face and resize it to ``size x size``; say how it was framed.

    Args:
        grey: ``uint8`` array ``[H, W]``.
        size: output side in pixels.
        face_crop: ``'none'``, ``'center'`` or ``'detect'`` (see the module docstring). Ignored when
            ``box`` is given.
        box: an explicit face box ``(x, y, w, h)``.
        margin: the face box (``center``, ``detect``, explicit) grown (> 1) or shrunk (< 1) by this factor.
        fallback: ``detect`` without a face found: ``'center'`` crop or ``'skip'`` (returns ``None``).
        detector: the :class:`FaceDetector` to use (create it in the main thread); by default one
            shared detector, created on first use.

    Returns:
        ``(image or None, how)`` with ``how`` one of ``'frame'``, ``'center'``, ``'box'``,
        ``'detected'`` or ``'fallback'`` (no face found: centre-cropped, or skipped when the image is
        ``None``).
    """
    if face_crop not in FACE_CROPS[:3]:
        raise ConfigError(f"face_crop must be one of {', '.join(FACE_CROPS[:3])}, got {face_crop!r}")
    if fallback not in DETECT_FALLBACKS:
        raise ConfigError(f"detect_fallback must be one of {', '.join(DETECT_FALLBACKS)}, got {fallback!r}")
    h, w = grey.shape
    if box is not None:
        how, crop = "box", square_box(box, h, w, margin)
    elif face_crop == "center":
        how, crop = "center", center_box(h, w, margin)
    elif face_crop == "detect":
        found = (detector or _default_detector()).detect(grey)
        if found is not None:
            how, crop = "detected", square_box(found, h, w, margin)
        elif fallback == "skip":
            return None, "fallback"
        else:
            how, crop = "fallback", center_box(h, w, margin)
    else:
        how, crop = "frame", frame_box(h, w)
    return _crop_resize(grey, crop, size), how
