"""The registry of dataset formats: ``load_dataset(name, root, ...)`` finds the loader by name.

A format is one module in :mod:`fer_avalanche.data.formats` holding a loader function decorated with
:func:`register_format`. A loader takes ``root`` plus keyword settings and returns a
:class:`~fer_avalanche.data.ferdata.FERData` in the requested label space, with the dataset's official
split where it has one (everything in ``train`` otherwise) and a provenance that records what it found
and what it skipped.

Example:
    >>> from fer_avalanche import load_dataset, list_formats
    >>> "fer2013" in list_formats()
    True
    >>> data = load_dataset("fer2013", "~/datasets/fer2013.csv")  # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fer_avalanche.data.ferdata import FERData
from fer_avalanche.errors import ConfigError

__all__ = ["register_format", "list_formats", "get_format", "load_dataset", "FormatInfo"]

Loader = Callable[..., FERData]


@dataclass(frozen=True)
class FormatInfo:
    """A registered dataset format: its name, loader function and a one-line description."""

    name: str
    loader: Loader
    description: str
    aliases: tuple[str, ...] = ()


_FORMATS: dict[str, FormatInfo] = {}
_ALIASES: dict[str, str] = {}


def register_format(
    name: str, *, aliases: tuple[str, ...] = (), description: str = ""
) -> Callable[[Loader], Loader]:
    """Decorator registering a loader under ``name`` (and ``aliases``).

    Example:
        >>> @register_format("my-set", description="class folders of my lab")  # doctest: +SKIP
        ... def load_my_set(root, **settings) -> FERData: ...
    """

    def decorator(fn: Loader) -> Loader:
        for key in (name, *aliases):
            if key in _ALIASES and _FORMATS[_ALIASES[key]].loader is not fn:
                raise ValueError(f"dataset format {key!r} is registered twice")
        doc = description or ((fn.__doc__ or "").strip().splitlines() or [""])[0]
        _FORMATS[name] = FormatInfo(name, fn, doc, tuple(aliases))
        for key in (name, *aliases):
            _ALIASES[key] = name
        return fn

    return decorator


def _import_formats() -> None:
    from fer_avalanche.data import formats

    for module in pkgutil.iter_modules(formats.__path__):
        importlib.import_module(f"{formats.__name__}.{module.name}")


def list_formats() -> list[str]:
    """Names of every registered dataset format, sorted."""
    _import_formats()
    return sorted(_FORMATS)


def get_format(name: str) -> FormatInfo:
    """The registered format ``name`` (or alias).

    Raises:
        ConfigError: unknown name; the message lists the known ones and the closest match.
    """
    _import_formats()
    key = name.strip().lower()
    if key not in _ALIASES:
        close = difflib.get_close_matches(key, _ALIASES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"unknown dataset format {name!r}{hint}; known: {', '.join(sorted(_FORMATS))}")
    return _FORMATS[_ALIASES[key]]


def load_dataset(name: str, root: str | Path, **settings: Any) -> FERData:
    """Load the dataset at ``root`` with the loader registered as ``name``.

    Common settings (each loader documents its own extras): ``label_space`` (``'basic7'`` or
    ``'basic8'``), ``image_size`` (48), ``face_crop`` (``'none'``, ``'center'``, ``'detect'``),
    ``skip_corrupt`` (False: a corrupt file is an error; True: skipped, counted and warned),
    ``cache_dir`` (where decoded arrays are cached) and ``use_cache`` (True).
    """
    info = get_format(name)
    params = inspect.signature(info.loader).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        valid = [k for k, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
        for key in settings:
            if key not in valid:
                close = difflib.get_close_matches(key, valid, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(
                    f"dataset format {info.name!r} has no setting {key!r}{hint}; valid: {', '.join(valid)}"
                )
    return info.loader(Path(root).expanduser(), **settings)
