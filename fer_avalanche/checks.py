"""Checks of setting values shared by every module that validates one (stdlib only: cheap to import).

Example:
    >>> from fer_avalanche.checks import is_int
    >>> is_int(3), is_int(True), is_int(3.0)
    (True, False, False)
"""

from __future__ import annotations

import numbers

__all__ = ["is_int"]


def is_int(value: object) -> bool:
    """Whether ``value`` is an integer setting (a Python or NumPy int; ``True``/``False`` are not).

    Example:
        >>> import numpy as np
        >>> is_int(np.int64(3)), is_int("3")
        (True, False)
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
