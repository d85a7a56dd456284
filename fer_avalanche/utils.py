"""Small shared helpers: silencing known third-party noise at our boundary, device choice, seeding."""

from __future__ import annotations

import contextlib
import os
import random
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from fer_avalanche.errors import ConfigError

__all__ = ["on_experience", "quiet_third_party", "resolve_device", "seed_everything", "KNOWN_NOISE"]


#: Third-party warnings known to be noise for our use: ``(category, message regex, module regex)``; the
#: module is the one a warning is attributed to (``warnings.filterwarnings(module=...)``).
KNOWN_NOISE: tuple[tuple[type[Warning], str, str], ...] = (
    # Avalanche 0.6 on numpy 2 / torch 2.x: deprecations inside its own code (e.g. SI's __array_wrap__)
    (DeprecationWarning, "", r"avalanche(\.|$)"),
    (FutureWarning, "", r"avalanche(\.|$)"),
    # our evaluators log through our own records, not Avalanche's loggers
    (UserWarning, "No loggers specified", r"avalanche(\.|$)"),
    # about Avalanche's future constructor style, triggered by the mixin's signature
    (UserWarning, "Avalanche is transitioning to strategy constructors", r"avalanche(\.|$)"),
    # imported by Avalanche, unmaintained or noisy at import time
    (DeprecationWarning, "", r"(jaxopt|qpsolvers|pytorchcv|torchvision)(\.|$)"),
    (UserWarning, "", r"(qpsolvers|pytorchcv)(\.|$)"),
)


@contextlib.contextmanager
def quiet_third_party() -> Iterator[None]:
    """Import or call Avalanche without the warnings known to be noise (:data:`KNOWN_NOISE`).

    Only those categories from those modules are silenced, and only inside the block: every other
    warning (ours, a user's plugin's, a real problem in a library) still shows.
    """
    with warnings.catch_warnings():
        for category, message, module in KNOWN_NOISE:
            warnings.filterwarnings("ignore", message=message, category=category, module=module)
        yield


@contextlib.contextmanager
def on_experience(strategy: Any, experience: Any) -> Iterator[None]:
    """Set ``strategy.experience`` for the duration of a block, as Avalanche's hooks expect (used to run a
    plugin's after-training update on the source before the first target); restored afterwards.

    Example:
        >>> class S: experience = "target"
        >>> s = S()
        >>> with on_experience(s, "source"):
        ...     s.experience
        'source'
        >>> s.experience
        'target'
    """
    previous = strategy.experience
    strategy.experience = experience
    try:
        yield
    finally:
        strategy.experience = previous


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``'auto'`` -> CUDA when available, else CPU; ``'cpu'``/``'cuda'``/``'cuda:1'`` as given.

    Raises:
        ConfigError: an unknown device name, or CUDA asked for but not available.
    """
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} requested but CUDA is not available on this machine")
    if dev.type not in ("cpu", "cuda"):
        raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {device!r}")
    return dev


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (CPU and CUDA) for a reproducible run."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
