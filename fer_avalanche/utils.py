"""Small shared helpers: silencing known third-party noise at our boundary, device choice, seeding."""

from __future__ import annotations

import contextlib
import os
import random
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import torch

from fer_avalanche.errors import ConfigError

if TYPE_CHECKING:
    from avalanche.benchmarks import CLExperience
    from avalanche.training.templates import SupervisedTemplate

__all__ = [
    "on_experience",
    "quiet_third_party",
    "resolve_device",
    "seed_everything",
    "determinism",
    "KNOWN_NOISE",
]


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
def on_experience(strategy: SupervisedTemplate, experience: CLExperience) -> Iterator[None]:
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


#: What ``CUBLAS_WORKSPACE_CONFIG`` is set to for deterministic cuBLAS (CUDA >= 10.2), unless set.
CUBLAS_WORKSPACE = ":4096:8"


@contextlib.contextmanager
def determinism(deterministic: bool, device: torch.device | str = "cpu") -> Iterator[None]:
    """Set PyTorch's reproducibility flags for a run (the scenario's ``deterministic``), restore them after.

    ``deterministic=True``: ``torch.backends.cudnn.benchmark = False``,
    ``torch.backends.cudnn.deterministic = True``, ``torch.use_deterministic_algorithms(True)`` and
    ``CUBLAS_WORKSPACE_CONFIG`` (``:4096:8`` unless already set): the same weights, bit for bit, on a
    GPU, at some speed. ``False`` on CUDA: ``cudnn.benchmark = True`` (the fastest kernels, results
    that vary in the last bits); on CPU nothing changes.

    Example:
        >>> with determinism(True, "cpu"):
        ...     torch.are_deterministic_algorithms_enabled()
        True
        >>> torch.are_deterministic_algorithms_enabled()
        False
    """
    dev = torch.device(device)
    cudnn = torch.backends.cudnn
    saved = (
        cudnn.benchmark,
        cudnn.deterministic,
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
    )
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
        cudnn.benchmark, cudnn.deterministic = False, True
        torch.use_deterministic_algorithms(True)
    elif dev.type == "cuda":
        cudnn.benchmark = True
    try:
        yield
    finally:
        cudnn.benchmark, cudnn.deterministic = saved[0], saved[1]
        torch.use_deterministic_algorithms(saved[2], warn_only=saved[3])
        if saved[4] is None:
            os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
        else:
            os.environ["CUBLAS_WORKSPACE_CONFIG"] = saved[4]
