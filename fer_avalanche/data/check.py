"""``fer-avalanche data check``: load a dataset and describe what was found, as JSON or as a table.

:func:`check_dataset` loads a dataset with its registered loader (so the cache is warmed as a side
effect) and returns a JSON-ready dict: totals per class and split, subjects, groups (sequences or
takes, and how many land in each split), what was skipped and why, how faces were framed (detected
or fallen back to the centre crop), image sizes before and after preprocessing, the split used and
whether the cache was hit.
:func:`format_report` renders that dict as a readable text table.

Example:
    >>> from fer_avalanche.data.check import check_dataset, format_report
    >>> report = check_dataset("fer2013", "~/datasets/fer2013.csv.gz")  # doctest: +SKIP
    >>> print(format_report(report))  # doctest: +SKIP
    dataset   fer2013 (format fer2013)
    ...
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

from fer_avalanche.data.ferdata import SPLITS
from fer_avalanche.data.registry import get_format, load_dataset

__all__ = ["check_dataset", "format_report"]


def _size(value: object) -> list[int] | None:
    if value is None:
        return None
    return [int(v) for v in value]


def _detection(value: object) -> dict[str, int] | None:
    if not isinstance(value, dict):
        return None
    return {"detected": int(value.get("detected", 0)), "fallback": int(value.get("fallback", 0))}


def check_dataset(name: str, root: str | Path, **settings: object) -> dict[str, Any]:
    """Load dataset ``name`` from ``root`` with ``settings`` and summarise it (JSON-ready).

    Keys: ``dataset``, ``format``, ``root``, ``label_space``, ``total`` (samples kept), ``per_class``
    ({class: count over all splits}), ``per_split``, ``per_split_class``, ``subjects`` (int or None),
    ``groups`` (int or None: sequences/takes whose frames every split keeps together),
    ``per_split_groups`` ({split: groups} or None), ``face_crop`` (the crop used),
    ``face_detection`` (``{"detected": int, "fallback": int}`` with ``face_crop='detect'``, else None),
    ``skipped`` ({reason: count}), ``source_image_size`` (most common ``[H, W]`` before preprocessing,
    or None when the loader did not record it), ``source_image_sizes`` ({"HxW": count}),
    ``image_size`` (``[H, W]`` after), ``split`` (how the split was made), ``cache`` (``hit``, ``miss`` or
    ``off``), ``layout``, ``warnings`` (messages the loader warned) and ``seconds`` (load time).

    Raises:
        ConfigError: unknown dataset name or setting.
        DatasetError: the loader's own errors (missing files, malformed rows, ...).

    Example:
        >>> check_dataset("folder", "my_faces")["per_split"]  # doctest: +SKIP
        {'train': 120, 'val': 0, 'test': 0}
    """
    info = get_format(name)
    path = Path(root).expanduser()
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = load_dataset(info.name, path, **settings)
    seconds = time.perf_counter() - start
    prov = data.provenance
    messages = list(dict.fromkeys(str(w.message) for w in caught))
    return {
        "dataset": data.name,
        "format": info.name,
        "root": str(path),
        "label_space": data.label_space.name,
        "total": len(data),
        "per_class": data.class_counts(),
        "per_split": data.counts(),
        "per_split_class": {split: data.class_counts(split) for split in SPLITS},
        "subjects": data.num_subjects,
        "groups": data.num_groups,
        "per_split_groups": data.group_counts(),
        "face_crop": (prov.get("preprocessing") or {}).get("face_crop"),
        "face_detection": _detection(prov.get("face_detection")),
        "skipped": {str(k): int(v) for k, v in dict(prov.get("skipped", {})).items()},
        "source_image_size": _size(prov.get("source_size")),
        "source_image_sizes": dict(prov.get("source_sizes", {})),
        "image_size": list(data.image_size),
        "split": prov.get("split"),
        "cache": prov.get("cache"),
        "layout": prov.get("layout"),
        "warnings": messages,
        "seconds": round(seconds, 3),
    }


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]


def format_report(d: dict[str, Any]) -> str:
    """A readable multi-line report of a :func:`check_dataset` dict: facts, then a class x split table.

    Example:
        >>> print(format_report(check_dataset("csv", "labels.csv")))  # doctest: +SKIP
    """
    skipped = d.get("skipped") or {}
    skipped_text = (
        f"{sum(skipped.values())} ("
        + ", ".join(f"{n} {reason}" for reason, n in sorted(skipped.items(), key=lambda kv: -kv[1]))
        + ")"
        if skipped
        else "none"
    )
    src = d.get("source_image_size")
    src_text = f"{src[0]}x{src[1]}" if src else "unknown"
    others = d.get("source_image_sizes") or {}
    if len(others) > 1:
        src_text += " (most common; also " + ", ".join(list(others)[1:]) + ")"
    size = d.get("image_size") or ["?", "?"]
    subjects = d.get("subjects")
    groups = d.get("groups")
    detection = d.get("face_detection")
    if detection:
        found = int(detection["detected"]) + int(detection["fallback"])
        faces = (
            f"detect: {detection['detected']} of {found} detected, {detection['fallback']} fallbacks "
            f"({'skipped' if 'no face detected' in skipped else 'centre-cropped'})"
        )
    else:
        faces = f"{d.get('face_crop') or '-'} (no detection)"
    facts = [
        ("dataset", f"{d.get('dataset')} (format {d.get('format', d.get('dataset'))})"),
        ("root", str(d.get("root"))),
        ("layout", str(d.get("layout") or "-")),
        ("samples", f"{d.get('total')} kept, label space {d.get('label_space', '?')}"),
        ("skipped", skipped_text),
        ("images", f"{src_text} on disk -> {size[0]}x{size[1]}"),
        ("faces", faces),
        ("subjects", "unknown" if subjects is None else str(subjects)),
        ("groups", "unknown (every image its own)" if groups is None else str(groups)),
        ("split", str(d.get("split") or "-")),
        (
            "cache",
            str(d.get("cache") or "-") + (f", loaded in {d['seconds']:.2f} s" if "seconds" in d else ""),
        ),
    ]
    lines = [f"{key:<9} {value}" for key, value in facts]
    per_split_class = d.get("per_split_class") or {}
    splits = [s for s in SPLITS if (d.get("per_split") or {}).get(s)]
    per_class = d.get("per_class") or {}
    rows = [["class", *splits, "total"]]
    for cls, total in per_class.items():
        rows.append([cls, *(str(per_split_class.get(s, {}).get(cls, 0)) for s in splits), str(total)])
    rows.append(["total", *(str(d["per_split"][s]) for s in splits), str(d.get("total"))])
    per_split_groups = d.get("per_split_groups")
    if per_split_groups is not None:
        rows.append(["groups", *(str(per_split_groups.get(s, 0)) for s in splits), str(groups)])
    lines += ["", *_table(rows)]
    for message in d.get("warnings") or []:
        lines.append(f"warning: {message}")
    return "\n".join(lines)
