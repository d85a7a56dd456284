"""The JSON Schema of ``results.json``, generated from the model's fields (:func:`json_schema`,
committed as ``docs/results.schema.json``), and a validator of the subset it uses
(:func:`schema_errors`)."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Union

from fer_avalanche.results.codec import JSON, Interval, _hints, _Record
from fer_avalanche.results.model import SCHEMA_VERSION, Column, Results


# ------------------------------------------------------------------------------------- schema
def _schema(tp: object, defs: dict[str, dict[str, JSON]]) -> dict[str, JSON]:  # noqa: C901
    if tp is JSON or tp is object:
        return {}
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return {"anyOf": [_schema(a, defs) for a in typing.get_args(tp)]}
    simple = {str: "string", int: "integer", bool: "boolean", type(None): "null"}
    if tp in simple:
        return {"type": simple[tp]}  # type: ignore[index]
    if tp is float:
        return {"type": ["number", "null"]}  # non-finite floats are written as null
    if tp is list or tp is dict:
        return {"type": "array" if tp is list else "object"}
    if origin is list:
        return {"type": "array", "items": _schema(typing.get_args(tp)[0], defs)}
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema(typing.get_args(tp)[1], defs)}
    if tp is Interval:
        return {"type": "array", "items": {"type": ["number", "null"]}, "minItems": 2, "maxItems": 2}
    if isinstance(tp, type) and issubclass(tp, _Record):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # placeholder: records refer to each other
            hints = _hints(tp)
            props: dict[str, JSON] = {}
            required: list[JSON] = []
            for f in dataclasses.fields(tp):  # type: ignore[arg-type]
                if f.name == "extra":
                    continue
                props[f.name] = _schema(hints[f.name], defs)
                if isinstance(f.metadata.get("column"), Column):
                    props[f.name] = {"description": f.metadata["column"].header, **props[f.name]}
                if f.name in tp.required or (
                    f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                ):
                    required.append(f.name)
            doc = " ".join((tp.__doc__ or "").split("\n\n")[0].split())
            body: dict[str, JSON] = {"type": "object", "description": doc}
            body["properties"] = props
            if required:
                body["required"] = required
            body["additionalProperties"] = any(f.name == "extra" for f in dataclasses.fields(tp))  # type: ignore[arg-type]
            defs[name] = body
        return {"$ref": f"#/$defs/{name}"}
    raise TypeError(f"no schema for {tp!r}")


def json_schema() -> dict[str, JSON]:
    """The JSON Schema (draft 2020-12) of ``results.json``, generated from the model's fields and types
    (``docs/results.schema.json`` is this, written by ``python -m fer_avalanche.results``).

    Example:
        >>> s = json_schema()
        >>> s["$defs"]["ResultRow"]["required"]
        ['strategy', 'target', 'acc']
    """
    defs: dict[str, dict[str, JSON]] = {}
    top = _schema(Results, defs)
    name = str(top["$ref"]).rsplit("/", 1)[-1]
    root = dict(defs.pop(name))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"fer-avalanche results.json (schema_version {SCHEMA_VERSION})",
        **root,
        "$defs": dict(sorted(defs.items())),
    }


def _check(value: JSON, schema: dict[str, JSON], root: dict[str, JSON], where: str) -> list[str]:  # noqa: C901
    if "$ref" in schema:
        return _check(value, root["$defs"][schema["$ref"].rsplit("/", 1)[-1]], root, where)
    if "anyOf" in schema:
        if value is not None and len(schema["anyOf"]) == 2 and {"type": "null"} in schema["anyOf"]:
            (inner,) = [s for s in schema["anyOf"] if s != {"type": "null"}]
            return _check(value, inner, root, where)  # X or null: the errors of X
        options = [_check(value, s, root, where) for s in schema["anyOf"]]
        return [] if any(not o for o in options) else [f"{where}: matches none of anyOf"]
    kinds = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None),
             "integer": int, "number": (int, float)}  # fmt: skip
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        ok = any(isinstance(value, kinds[t]) and not (t in ("integer", "number") and isinstance(value, bool))
                 for t in types)  # fmt: skip
        if not ok:
            return [f"{where}: {type(value).__name__} is not {types}"]
    errors: list[str] = []
    if isinstance(value, dict):
        props = schema.get("properties", {})
        errors += [f"{where}: missing {k}" for k in schema.get("required", []) if k not in value]
        for k, v in value.items():
            if k in props:
                errors += _check(v, props[k], root, f"{where}.{k}")
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += _check(v, schema["additionalProperties"], root, f"{where}[{k!r}]")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{where}: unexpected {k}")
    if isinstance(value, list):
        if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value)):
            errors.append(f"{where}: {len(value)} items")
        for i, v in enumerate(value):
            errors += _check(v, schema.get("items", {}), root, f"{where}[{i}]")
    return errors


def schema_errors(obj: JSON) -> list[str]:
    """What in ``obj`` (a ``results.json`` object) breaks :func:`json_schema`, one line per error
    (``[]``: none). Checks the subset of JSON Schema the generated schema uses (``type``,
    ``properties``, ``required``, ``additionalProperties``, ``items``, ``minItems``/``maxItems``,
    ``anyOf``, ``$ref``), so it needs no ``jsonschema`` package.

    Example:
        >>> schema_errors({"source": "s", "baseline": {"acc": {"s": "high"}}, "rows": []})
        ["$.baseline.acc['s']: str is not ['number', 'null']"]
    """
    schema = json_schema()
    return _check(obj, schema, schema, "$")


def schema_text() -> str:
    """:func:`json_schema` as the text of ``docs/results.schema.json``."""
    return json.dumps(json_schema(), indent=2) + "\n"
