"""Per-sample classes as text: one character per test sample, as ``results.json`` stores ``labels`` and
``predictions``.

Numpy only (no torch), so that reading and bootstrapping a run directory (:mod:`fer_avalanche.stats`,
:mod:`fer_avalanche.reporting`) stays fast; :mod:`fer_avalanche.metrics` re-exports both functions.

Example:
    >>> from fer_avalanche.classcodes import decode_classes, encode_classes
    >>> encode_classes([0, 3, 6, 1]), decode_classes("0361").tolist()
    ('0361', [0, 3, 6, 1])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from fer_avalanche.errors import ConfigError

if TYPE_CHECKING:
    import torch

__all__ = ["CLASS_ALPHABET", "encode_classes", "decode_classes"]


#: The characters that stand for class indices 0, 1, 2, ... in :func:`encode_classes`: the digits
#: first (so every label space of up to 10 classes reads ``"0361..."``), then ``a-z`` and ``A-Z``.
CLASS_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ALPHABET_BYTES = np.frombuffer(CLASS_ALPHABET.encode("ascii"), dtype=np.uint8)
_DECODE_TABLE = np.full(256, -1, dtype=np.int64)
_DECODE_TABLE[_ALPHABET_BYTES] = np.arange(len(CLASS_ALPHABET))


def encode_classes(classes: np.ndarray | torch.Tensor | Sequence[int]) -> str:
    """Class indices as a string, one character per sample (``results.json``'s ``labels`` /
    ``predictions``).

    Indices 0-9 are the digits ``"0"``-``"9"``; label spaces of more than 10 classes continue with
    ``a``-``z`` then ``A``-``Z`` (:data:`CLASS_ALPHABET`, 62 classes at most), so a string stays one
    character per sample and :func:`decode_classes` reverses it exactly.

    Raises:
        ConfigError: an index is negative, not an integer, or >= 62.

    Example:
        >>> encode_classes([0, 3, 6, 1])
        '0361'
        >>> encode_classes([9, 10, 11])
        '9ab'
    """
    if hasattr(classes, "detach"):  # a torch tensor (without importing torch here)
        classes = classes.detach().cpu().numpy()  # type: ignore[union-attr]
    arr = np.asarray(classes)
    if arr.ndim != 1:
        raise ConfigError(f"encode_classes: expected a 1-D array of class indices, got shape {arr.shape}")
    if arr.size == 0:
        return ""
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.floating) or not np.all(arr == np.round(arr)):
            raise ConfigError(f"encode_classes: class indices must be integers, got dtype {arr.dtype}")
        arr = arr.astype(np.int64)
    lo, hi = int(arr.min()), int(arr.max())
    if lo < 0 or hi >= len(CLASS_ALPHABET):
        raise ConfigError(
            f"encode_classes: class index {lo if lo < 0 else hi} out of range; one character per sample "
            f"covers classes 0..{len(CLASS_ALPHABET) - 1} ({CLASS_ALPHABET!r})"
        )
    return _ALPHABET_BYTES[arr].tobytes().decode("ascii")


def decode_classes(text: str) -> np.ndarray:
    """The class indices of an :func:`encode_classes` string, as an int64 array.

    Raises:
        ConfigError: ``text`` is not a string or holds a character outside :data:`CLASS_ALPHABET`
            (the message names the first one and its position).

    Example:
        >>> decode_classes("0361").tolist()
        [0, 3, 6, 1]
    """
    if not isinstance(text, str):
        raise ConfigError(f"decode_classes: expected a string of class characters, got {type(text).__name__}")
    try:
        raw = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    except UnicodeEncodeError as exc:
        raise ConfigError(
            f"decode_classes: non-ASCII character {text[exc.start]!r} at position {exc.start}; "
            f"expected characters of {CLASS_ALPHABET!r}"
        ) from None
    out = _DECODE_TABLE[raw]
    if out.size and out.min() < 0:
        pos = int(np.argmax(out < 0))
        raise ConfigError(
            f"decode_classes: character {text[pos]!r} at position {pos} is not a class; "
            f"expected characters of {CLASS_ALPHABET!r}"
        )
    return out
