"""Small shared helpers: silencing known third-party noise at our boundary, device choice, seeding."""

from __future__ import annotations

import contextlib
import io
import os
import random
import warnings
from collections.abc import Iterator

import numpy as np
import torch

from fer_avalanche.errors import ConfigError

__all__ = ["quiet_third_party", "resolve_device", "seed_everything"]


@contextlib.contextmanager
def quiet_third_party() -> Iterator[None]:
    """Import or call Avalanche without its known import-time noise (qpsolvers, deprecations).

    Only warnings and prints raised inside the block are silenced; the rest of the program keeps the
    user's warning filters.
    """
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


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
