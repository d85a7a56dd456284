"""Architectures by name, each with the freezable parts ``features``, ``last_conv``, ``classifier``.

``make_model(arch, num_classes=7, width=..., image_size=48, **options)`` builds one;
``list_architectures()`` lists them:

- ``fernet`` (:class:`FERNet`): compact VGG-style CNN, ``batchnorm`` on or off; fast on a CPU.
- ``paper`` (:class:`PaperNet`): the layout of the paper's line of work (19.3M parameters at
  ``width=64``; no BatchNorm, no padding).
- ``resnet18`` (:class:`ResNet18`): torchvision's ResNet-18 for grey 48x48 faces, optional local
  initial weights.

A new architecture is a :class:`~fer_avalanche.models.base.FERModel` subclass registered with
``ARCHITECTURES.add(name, cls)``; its constructor's keyword arguments are its options.

Example:
    >>> from fer_avalanche.models import make_model, list_architectures
    >>> list_architectures()
    ['fernet', 'paper', 'resnet18']
    >>> make_model("paper", width=16).config["arch"]
    'paper'
"""

from __future__ import annotations

import inspect
from typing import Any

from fer_avalanche.errors import ConfigError
from fer_avalanche.models.base import PART_NAMES, FERModel, load_weights
from fer_avalanche.models.fernet import FERNet
from fer_avalanche.models.paper import PaperNet
from fer_avalanche.models.resnet import ResNet18
from fer_avalanche.registry import Registry, did_you_mean

__all__ = [
    "ARCHITECTURES",
    "FERModel",
    "FERNet",
    "PaperNet",
    "ResNet18",
    "PART_NAMES",
    "make_model",
    "list_architectures",
    "architecture_options",
    "load_weights",
]

#: Registered architectures: name -> model class.
ARCHITECTURES: Registry[type[FERModel]] = Registry("architecture")
ARCHITECTURES.add("fernet", FERNet)
ARCHITECTURES.add("paper", PaperNet)
ARCHITECTURES.add("resnet18", ResNet18, aliases=("resnet-18",))


def list_architectures() -> list[str]:
    """Registered architecture names."""
    return ARCHITECTURES.names()


def architecture_options(arch: str) -> dict[str, Any]:
    """The options of ``arch`` with their defaults (its constructor's keyword arguments)."""
    params = inspect.signature(ARCHITECTURES.get(arch).__init__).parameters
    return {
        k: p.default for k, p in params.items() if k != "self" and p.default is not inspect.Parameter.empty
    }


def make_model(arch: str = "fernet", num_classes: int = 7, **options: object) -> FERModel:
    """Build architecture ``arch`` with ``num_classes`` outputs and its options (``width``, ...).

    Raises:
        ConfigError: unknown architecture or option (the message lists the valid ones).
    """
    cls = ARCHITECTURES.get(arch)
    valid = architecture_options(arch)
    for key in options:
        if key not in valid:
            raise ConfigError(
                f"architecture {arch!r} has no option {key!r}{did_you_mean(key, list(valid))} "
                f"(valid: {', '.join(valid)})"
            )
    return cls(num_classes=num_classes, **options)
