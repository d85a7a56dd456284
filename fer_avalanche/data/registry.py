"""The registry of dataset formats: ``load_dataset(name, root, ...)`` finds the loader by name.

A format is one module in :mod:`fer_avalanche.data.formats` holding a loader function decorated with
:func:`register_format`. A loader takes ``root``, the shared settings as one
:class:`~fer_avalanche.data.formats._common.LoadSettings` and its own options as keywords, and returns a
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

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fer_avalanche.data.ferdata import FERData
from fer_avalanche.errors import ConfigError
from fer_avalanche.registry import Registry, did_you_mean

__all__ = ["register_format", "list_formats", "get_format", "load_dataset", "FormatInfo", "FORMATS"]

Loader = Callable[..., FERData]


@dataclass(frozen=True)
class FormatInfo:
    """A registered dataset format: its name, loader function and a one-line description."""

    name: str
    loader: Loader
    description: str
    aliases: tuple[str, ...] = ()

    def options(self) -> list[str]:
        """The format's own settings (the loader's keyword-only parameters)."""
        params = inspect.signature(self.loader).parameters
        return [k for k, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]


def _import_formats() -> None:
    from fer_avalanche.data import formats

    for module in pkgutil.iter_modules(formats.__path__):
        importlib.import_module(f"{formats.__name__}.{module.name}")


#: Every dataset format, by name and alias (the modules of :mod:`fer_avalanche.data.formats`
#: register themselves when imported, on the first lookup).
FORMATS: Registry[FormatInfo] = Registry("dataset format", loader=_import_formats)


def register_format(
    name: str, *, aliases: tuple[str, ...] = (), description: str = ""
) -> Callable[[Loader], Loader]:
    """Decorator registering a loader under ``name`` (and ``aliases``).

    A loader is ``loader(root, settings, *, <its own options>) -> FERData``: ``settings`` is the shared
    :class:`~fer_avalanche.data.formats._common.LoadSettings`, its own options are keyword-only.

    Example:
        >>> @register_format("my-set", description="class folders of my lab")  # doctest: +SKIP
        ... def load_my_set(root, settings, *, label_map=None) -> FERData: ...
    """

    def decorator(fn: Loader) -> Loader:
        doc = description or ((fn.__doc__ or "").strip().splitlines() or [""])[0]
        FORMATS.add(name, FormatInfo(name, fn, doc, tuple(aliases)), aliases=tuple(aliases))
        return fn

    return decorator


def list_formats() -> list[str]:
    """Names of every registered dataset format, sorted."""
    return sorted(FORMATS.names())


def get_format(name: str) -> FormatInfo:
    """The registered format ``name`` (or alias).

    Raises:
        ConfigError: unknown name; the message suggests the closest and lists the registered ones.
    """
    return FORMATS.get(name)


def load_dataset(name: str, root: str | Path, **settings: object) -> FERData:
    """Load the dataset at ``root`` with the loader registered as ``name``.

    Common settings (gathered into one :class:`~fer_avalanche.data.formats._common.LoadSettings`;
    each loader documents its own extras): ``label_space`` (``'basic7'`` or ``'basic8'``),
    ``image_size`` (48), ``face_crop`` (``'none'``, ``'center'``, ``'detect'``, ``'auto'``; default: the
    format's own, see the README's Datasets table), ``face_margin`` (1.0: the face box grown or shrunk
    by this factor), ``detect_fallback`` (``'center'`` or ``'skip'`` an image without a detected face),
    ``skip_corrupt`` (False: a corrupt file is an error; True: skipped, counted and warned),
    ``cache_dir`` (where decoded arrays are cached) and ``use_cache`` (True).

    Raises:
        ConfigError: unknown format or setting (the message names the closest valid one), or a bad
            value of a common setting.
    """
    from fer_avalanche.data.formats._common import SETTING_NAMES, LoadSettings

    info = get_format(name)
    own = info.options()
    common = {k: v for k, v in settings.items() if k in SETTING_NAMES}
    extra = {k: v for k, v in settings.items() if k not in SETTING_NAMES}
    valid = [*SETTING_NAMES, *own]
    for key in extra:
        if key not in own:
            raise ConfigError(
                f"dataset format {info.name!r} has no setting {key!r}{did_you_mean(key, valid)}; "
                f"valid: {', '.join(valid)}"
            )
    return info.loader(Path(root).expanduser(), LoadSettings.make(**common), **extra)
