"""Atomic file output: every file the package writes is either the old version or the new one.

Results, tables, plots, checkpoints and caches are written to a temporary file in the target's folder
and renamed over it (``os.replace`` is atomic on POSIX and Windows), so a run killed at any moment
never leaves a truncated file behind.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "results.json"
    >>> write_json(path, {"acc": 0.5})
    >>> path.read_text().strip()[:12]
    '{\\n  "acc": 0'
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "write_json"]


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed.

    Use it with writers that want a path (``torch.save``, ``np.savez``, ``fig.savefig``)::

        with atomic_path("run/plot.png") as tmp:
            fig.savefig(tmp, format="png")
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.name}.",
        suffix=suffix if suffix is not None else path.suffix + ".tmp",
        dir=path.parent,
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
            if hasattr(os, "fchmod"):  # mkstemp makes it 0600: give it what a plain open() would
                os.fchmod(fh.fileno(), 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic_write(
    path: str | Path, mode: str, write: Callable[[IO[Any]], None], **open_kwargs: object
) -> None:
    with atomic_path(path) as tmp, open(tmp, mode, **open_kwargs) as fh:
        write(fh)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    _atomic_write(path, "wb", lambda fh: fh.write(data))


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    _atomic_write(path, "w", lambda fh: fh.write(text), encoding="utf-8", newline="\n")


def write_json(path: str | Path, obj: object) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically (non-JSON values go through ``str``)."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")
