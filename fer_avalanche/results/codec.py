"""The codec of the results model: one reader/writer driven by the dataclass fields and their types
(``to_json``/``from_json`` of every record, the errors that name the file and key), and
:class:`Interval`, the one value type it knows besides records."""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import ClassVar, TypeVar, Union

from fer_avalanche.stats import ResultsError

#: A JSON value (``list`` and ``dict`` hold JSON values).
JSON = Union[None, bool, int, float, str, list, dict]  # noqa: UP007 (a runtime alias the codec reads)

_R = TypeVar("_R", bound="_Record")


class ReportError(ResultsError):
    """A run directory's ``results.json`` is missing, unreadable or not a results file."""


def _omit(default: object = None, **meta: object) -> dataclasses.Field:  # type: ignore[type-arg]
    """A field left out of the JSON when ``None`` (a key the file does not always have)."""
    return field(default=default, metadata={"omit": True, **meta})


def _list() -> list:  # type: ignore[type-arg]
    return field(default_factory=list)


def _dict() -> dict:  # type: ignore[type-arg]
    return field(default_factory=dict)


# ------------------------------------------------------------------------------------- the codec
class _Record:
    """Base of the model's records: JSON in and out by field, in declared order."""

    #: Keys the JSON must have (besides the fields without a default).
    required: ClassVar[tuple[str, ...]] = ()

    def to_json(self) -> dict[str, JSON]:
        """The record as a JSON object (non-finite floats as ``null``; ``omit`` fields left out when
        ``None``)."""
        out: dict[str, JSON] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.name == "extra":
                out.update({k: _encode(v) for k, v in value.items() if k not in out})
            elif not (value is None and f.metadata.get("omit")):
                out[f.name] = _encode(value)
        return out

    @classmethod
    def from_json(cls: type[_R], obj: JSON, origin: str = "results") -> _R:
        """The record of a JSON object (``origin``: the file or key named in errors).

        Raises:
            ReportError: a key is missing or holds the wrong type (the message names ``origin`` and the key).
        """
        return typing.cast(_R, _decoded(obj, cls, origin))


def _encode(value: object) -> JSON:
    if isinstance(value, (_Record, Interval)):
        return value.to_json()
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return _encode(value.tolist())  # type: ignore[union-attr]
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


@cache
def _hints(cls: type) -> dict[str, object]:
    return typing.get_type_hints(cls)


def _type_name(tp: object) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true/false", list: "a list",
             dict: "an object", type(None): "null"}  # fmt: skip
    if tp in names:
        return names[tp]
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin in (list, dict):
        return names[origin]
    if tp is Interval:
        return "an interval [low, high]"
    return f"an object ({getattr(tp, '__name__', tp)})"


class _Bad(Exception):
    """What the codec cannot read, at ``path`` (``rows[0].acc['wild']``); :func:`_decoded` names the file."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)


def _bad(value: object, tp: object, where: str) -> _Bad:
    got = "null" if value is None else type(value).__name__
    return _Bad(where, f"expected {_type_name(tp)}, got {got} ({json.dumps(value, default=str)[:60]})")


def _decoded(obj: object, tp: object, origin: str) -> object:
    """:func:`_decode` of a whole file (or record), its errors as :class:`ReportError` naming ``origin``."""
    try:
        return _decode(obj, tp, "")
    except _Bad as exc:
        raise ReportError(f"{origin}: {exc}") from None


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _decode(value: object, tp: object, where: str) -> object:  # noqa: C901 (one branch per kind of type)
    if tp is JSON or tp is object:
        return value
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _decode(value, arg, where)
            except _Bad as exc:
                errors.append(exc)
        raise errors[0] if len(errors) == 1 else _bad(value, tp, where)
    if tp is float:
        if value is None:
            return math.nan
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        raise _bad(value, tp, where)
    if tp in (int, str, bool):
        ok = isinstance(value, tp) and (tp is bool or not isinstance(value, bool))  # type: ignore[arg-type]
        if not ok:
            raise _bad(value, tp, where)
        return value
    if tp is type(None):
        if value is not None:
            raise _bad(value, tp, where)
        return None
    if tp in (list, dict) or origin in (list, dict):
        kind = origin or tp
        if not isinstance(value, list if kind is list else Mapping):
            raise _bad(value, tp, where)
        args = typing.get_args(tp)
        if kind is list:
            return [_decode(v, args[0], f"{where}[{i}]") for i, v in enumerate(value)] if args else value
        return {str(k): _decode(v, args[1], f"{where}[{k!r}]") for k, v in value.items()} if args else value  # type: ignore[union-attr]
    if tp is Interval:
        try:
            return Interval.from_json(value, where)  # type: ignore[arg-type]
        except ReportError:
            raise _bad(value, tp, where) from None
    if isinstance(tp, type) and issubclass(tp, _Record):
        return _decode_record(value, tp, where)
    raise TypeError(f"{where}: the results model has no codec for {tp!r}")


def _decode_record(value: object, cls: type[_Record], where: str) -> _Record:
    if not isinstance(value, Mapping):
        raise _bad(value, cls, where)
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kwargs: dict[str, object] = {}
    extra: dict[str, JSON] = {}
    for key, raw in value.items():
        if key in fields and key != "extra":
            kwargs[key] = _decode(raw, hints[key], _at(where, key))
        elif "extra" in fields:
            extra[str(key)] = raw
        else:
            known = ", ".join(n for n in fields)
            raise _Bad(where, f"unknown key {key!r} (this version reads {known})")
    for name, f in fields.items():
        required = name in cls.required or (
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        )
        if required and name not in kwargs:
            raise _Bad(where, f"missing key {name!r} (is this a fer-avalanche results file?)")
    if "extra" in fields:
        kwargs["extra"] = extra
    return cls(**kwargs)


# ------------------------------------------------------------------------------------- records
@dataclass(frozen=True)
class Interval:
    """A confidence interval ``[lo, hi]`` (JSON: a two-element list; ``nan`` bounds are ``null``).

    Example:
        >>> Interval(0.25, 0.5).hi, Interval.from_json([None, 0.5]).to_json()
        (0.5, [None, 0.5])
    """

    lo: float
    hi: float

    def to_json(self) -> list[float | None]:
        """``[lo, hi]`` with non-finite bounds as ``None``."""
        return [b if math.isfinite(b) else None for b in (self.lo, self.hi)]

    @classmethod
    def from_json(cls, obj: JSON, where: str = "interval") -> Interval:
        """The interval of ``[lo, hi]`` (``null`` bounds: ``nan``).

        Raises:
            ReportError: ``obj`` is not a list of two numbers.
        """
        ok = isinstance(obj, list) and len(obj) == 2
        ok = ok and all(b is None or (isinstance(b, (int, float)) and not isinstance(b, bool)) for b in obj)
        if not ok:
            raise ReportError(str(_bad(obj, Interval, where)))
        lo, hi = (math.nan if b is None else float(b) for b in obj)  # type: ignore[union-attr]
        return cls(lo, hi)

    @classmethod
    def of(cls, pair: Sequence[float] | None) -> Interval | None:
        """The interval of a ``[lo, hi]`` pair as :mod:`fer_avalanche.stats` returns it (``None``: none)."""
        return None if pair is None else cls(float(pair[0]), float(pair[1]))

    @property
    def finite(self) -> bool:
        """Whether both bounds are finite numbers."""
        return math.isfinite(self.lo) and math.isfinite(self.hi)
