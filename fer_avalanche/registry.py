"""One registry helper for everything looked up by name: formats, strategies, architectures, domains.

A :class:`Registry` maps names (and aliases) to entries, keeps registration order for listings, and
turns an unknown name into a :class:`~fer_avalanche.errors.ConfigError` that suggests the closest
registered name. ``loader`` (optional) is called once before the first lookup, for registries whose
entries register themselves when their modules are imported (dataset formats).

Example:
    >>> from fer_avalanche.registry import Registry
    >>> archs = Registry("architecture")
    >>> @archs.register("tiny", aliases=("small",))
    ... def tiny():
    ...     return "a tiny net"
    >>> archs.get("small")()
    'a tiny net'
    >>> archs.names()
    ['tiny']
    >>> archs.get("tinny")
    Traceback (most recent call last):
    ...
    fer_avalanche.errors.ConfigError: unknown architecture 'tinny'; did you mean 'tiny'? (registered: tiny)
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from fer_avalanche.errors import ConfigError

__all__ = ["Registry", "did_you_mean"]

T = TypeVar("T")


def did_you_mean(name: str, choices: list[str] | tuple[str, ...], n: int = 1, cutoff: float = 0.6) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices`` to ``name``, or ``""`` if none is close.

    Example:
        >>> did_you_mean("retrian", ["retrain", "replay"])
        "; did you mean 'retrain'?"
    """
    close = difflib.get_close_matches(str(name), list(choices), n=n, cutoff=cutoff)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


class Registry(Generic[T]):
    """Named entries of one kind (``kind`` names them in error messages).

    Args:
        kind: what the entries are, singular (``"strategy"``, ``"dataset format"``).
        loader: called once before the first lookup or listing (e.g. to import plugin modules).
        case_sensitive: when ``False`` (the default) names are matched in lower case.
    """

    def __init__(self, kind: str, loader: Callable[[], None] | None = None, case_sensitive: bool = False):
        self.kind = kind
        self._loader = loader
        self._loaded = loader is None
        self._case_sensitive = case_sensitive
        self._entries: dict[str, T] = {}
        self._aliases: dict[str, str] = {}

    def _key(self, name: str) -> str:
        name = str(name).strip()
        return name if self._case_sensitive else name.lower()

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            assert self._loader is not None
            self._loader()

    def add(self, name: str, entry: T, aliases: tuple[str, ...] = ()) -> T:
        """Register ``entry`` under ``name`` and ``aliases``; returns ``entry``.

        Raises:
            ConfigError: a name or alias is already taken by another entry.
        """
        for key in (name, *aliases):
            taken = self._aliases.get(self._key(key))
            if taken is not None and self._entries[taken] is not entry:
                raise ConfigError(f"{self.kind} {key!r} is already registered")
        self._entries[name] = entry
        for key in (name, *aliases):
            self._aliases[self._key(key)] = name
        return entry

    def register(self, name: str, aliases: tuple[str, ...] = ()) -> Callable[[T], T]:
        """Decorator form of :meth:`add`."""

        def decorator(entry: T) -> T:
            return self.add(name, entry, aliases)

        return decorator

    def canonical(self, name: str) -> str:
        """The registered name for ``name`` or one of its aliases.

        Raises:
            ConfigError: unknown name, with the closest registered one.
        """
        self._load()
        key = self._key(name)
        if key not in self._aliases:
            hint = did_you_mean(key, list(self._aliases))
            raise ConfigError(f"unknown {self.kind} {name!r}{hint} (registered: {', '.join(self._entries)})")
        return self._aliases[key]

    def get(self, name: str) -> T:
        """The entry registered as ``name`` (or an alias of it); see :meth:`canonical`."""
        return self._entries[self.canonical(name)]

    def names(self, pattern: str | None = None) -> list[str]:
        """Registered names in registration order, optionally filtered by a glob (``"ft-*"``)."""
        self._load()
        names = list(self._entries)
        return [n for n in names if fnmatch.fnmatch(n, pattern)] if pattern else names

    def items(self) -> list[tuple[str, T]]:
        """``(name, entry)`` pairs in registration order."""
        self._load()
        return list(self._entries.items())

    def __contains__(self, name: object) -> bool:
        self._load()
        return isinstance(name, str) and self._key(name) in self._aliases

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        self._load()
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self._entries)} entries)"
