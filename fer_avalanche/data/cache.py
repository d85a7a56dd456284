"""The decode cache: a dataset is decoded and preprocessed once, later loads read one ``.npz`` file.

The cache key is a hash of the format name, every source file's path, size and modification time,
and the preprocessing settings, so editing, adding or removing a file, or changing ``image_size`` or
``face_crop``, invalidates it. Entries live in ``cache_dir`` (default ``$FER_AVALANCHE_CACHE`` or
``~/.cache/fer-avalanche``) and are written atomically.

Example:
    >>> from fer_avalanche.data.cache import cached_load
    >>> data = cached_load("jaffe", files, settings, build=lambda: decode_all())  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
import zipfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from fer_avalanche.data.ferdata import FERData
from fer_avalanche.io import atomic_path

__all__ = ["default_cache_dir", "cache_key", "cached_load", "CACHE_VERSION"]

#: Bump when the decoding or preprocessing code changes what it produces.
CACHE_VERSION = 3


def default_cache_dir() -> Path:
    """``$FER_AVALANCHE_CACHE`` if set, else ``~/.cache/fer-avalanche``."""
    env = os.environ.get("FER_AVALANCHE_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "fer-avalanche"


def cache_key(format_name: str, files: Iterable[Path], settings: Mapping[str, Any]) -> str:
    """Hash of the format, the source files (path, size, mtime) and the settings."""
    h = hashlib.sha256()
    h.update(f"{CACHE_VERSION}|{format_name}|".encode())
    h.update(json.dumps(dict(settings), sort_keys=True, default=str).encode())
    for path in sorted(Path(p) for p in files):
        st = path.stat()
        h.update(f"|{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:24]


def _read(path: Path) -> FERData | None:
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
            arrays = {k: npz[k] for k in npz.files if k != "meta"}
        return FERData.from_arrays(arrays, meta["name"], meta["label_space"], meta["provenance"])
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        warnings.warn(f"ignoring unreadable cache entry {path} ({exc}); decoding again", stacklevel=3)
        return None


def _write(path: Path, data: FERData) -> None:
    meta = {"name": data.name, "label_space": data.label_space.name, "provenance": data.provenance}
    with atomic_path(path, suffix=".tmp.npz") as tmp:
        np.savez(tmp, meta=np.array(json.dumps(meta, default=str)), **data.to_arrays())


def cached_load(
    format_name: str,
    files: Iterable[Path],
    settings: Mapping[str, Any],
    build: Callable[[], FERData],
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
) -> FERData:
    """Return the cached FERData for these files and settings, or ``build()`` it and cache it.

    The returned provenance has ``cache`` set to ``'hit'``, ``'miss'`` or ``'off'``.
    """
    if not use_cache:
        data = build()
        data.provenance["cache"] = "off"
        return data
    directory = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    path = directory / f"{format_name}-{cache_key(format_name, files, settings)}.npz"
    if path.exists():
        data = _read(path)
        if data is not None:
            data.provenance["cache"] = "hit"
            return data
    data = build()
    data.provenance["cache"] = "miss"
    try:
        _write(path, data)
    except OSError as exc:  # a read-only or full cache folder must not stop the run
        warnings.warn(f"could not write the decode cache {path}: {exc}", stacklevel=2)
    return data
