"""Split names and their integer codes, shared by :mod:`~fer_avalanche.data.ferdata` and
:mod:`~fer_avalanche.data.splits` (which therefore need not import each other both ways).

Example:
    >>> from fer_avalanche.data.split_names import SPLITS, split_code
    >>> SPLITS, split_code("validation")
    (('train', 'val', 'test'), 1)
"""

from __future__ import annotations

from fer_avalanche.errors import DatasetError

__all__ = ["SPLITS", "split_code", "TRAIN", "VAL", "TEST"]

#: Split names, in the order of their integer codes in :attr:`FERData.split`.
SPLITS: tuple[str, ...] = ("train", "val", "test")
TRAIN, VAL, TEST = 0, 1, 2

_ALIASES = {"validation": "val", "valid": "val", "training": "train", "testing": "test"}


def split_code(name: str) -> int:
    """Integer code of a split name (``'train'`` -> 0); accepts ``validation``/``valid`` for ``val``."""
    key = _ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in SPLITS:
        raise DatasetError(f"unknown split {name!r}; expected one of {', '.join(SPLITS)}")
    return SPLITS.index(key)
