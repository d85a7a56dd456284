"""TFEID (Taiwanese Facial Expression Image Database): class folders, or a flat folder + a name rule.

TFEID is distributed on request and copies differ, so the loader takes an explicit, documented rule
instead of guessing. Layouts accepted::

    # (a) class folders (any case, images may sit in sub-folders of a class folder)
    tfeid/anger/*.jpg  tfeid/contempt/...  tfeid/disgust/  tfeid/fear/  tfeid/happiness/
    tfeid/neutral/     tfeid/sadness/      tfeid/surprise/

    # (b) a flat folder, the expression coded in the file name
    tfeid/m01_happy_1.jpg ...   with  name_regex=r"(?P<subject>[mf]\\d+)_(?P<expr>[a-z]+)_"

Folder names and ``expr`` codes are understood in any known spelling (``anger``, ``Happiness``,
``HA``, ...); other names need ``label_map`` (``{"folder or code": "expression name"}``, keys
case-insensitive; a value of ``None`` excludes that folder/code, counted in
``provenance["excluded_by_label_map"]``). ``name_regex``
is searched in each file name (:func:`re.search`): in layout (b) it must have a named group ``expr``;
an optional group ``subject`` gives the subject and an optional group ``group`` the group (images every
split keeps together; in both layouts). Files whose name does not match are skipped and counted.
Contempt is dropped (and counted) in ``basic7`` and kept in ``basic8``. No official split: everything
is ``train``. Default ``face_crop`` is ``"auto"``: the portraits are 480x600-ish with the face in the
middle and hair, neck and background around it, so the face is detected with OpenCV's Haar cascade
when it is installed, else centre-cropped with a warning.

Example:
    >>> from fer_avalanche import load_dataset
    >>> data = load_dataset("tfeid", "~/datasets/tfeid")  # doctest: +SKIP
    >>> data = load_dataset("tfeid", "~/datasets/tfeid_flat", name_regex=r"_(?P<expr>[a-z]+)\\.",
    ...                     label_map={"joy": "happy"})  # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from fer_avalanche.data.ferdata import FERData
from fer_avalanche.data.formats._common import (
    LoadSettings,
    Sample,
    build_from_samples,
    describe_folder,
    list_images,
    require_dir,
)
from fer_avalanche.data.registry import register_format
from fer_avalanche.errors import ConfigError, DatasetError, LabelError
from fer_avalanche.labels import canonical_expression

__all__ = ["load_tfeid", "TFEID_FOLDERS"]

#: The class-folder names seen in TFEID copies (matched case-insensitively).
TFEID_FOLDERS: tuple[str, ...] = (
    "anger",
    "contempt",
    "disgust",
    "fear",
    "happiness",
    "neutral",
    "sadness",
    "surprise",
)
_EXCLUDED = object()


def _compile(name_regex: str | re.Pattern[str] | None, need_expr: bool) -> re.Pattern[str] | None:
    if name_regex is None:
        return None
    try:
        pattern = re.compile(name_regex) if isinstance(name_regex, str) else name_regex
    except re.error as exc:
        raise ConfigError(f"name_regex {name_regex!r} is not a valid regular expression ({exc})") from None
    if need_expr and "expr" not in pattern.groupindex:
        raise ConfigError(
            f"name_regex {pattern.pattern!r} needs a named group (?P<expr>...) for the expression"
        )
    return pattern


def _normalise_map(label_map: Mapping[str, str | None] | None) -> dict[str, str | None]:
    if label_map is None:
        return {}
    if not isinstance(label_map, Mapping):
        raise ConfigError(f"label_map must be a mapping {{folder or code: expression}}, got {label_map!r}")
    out: dict[str, str | None] = {}
    for key, value in label_map.items():
        if value is None:
            out[str(key).strip().lower()] = None
            continue
        try:
            out[str(key).strip().lower()] = canonical_expression(value)
        except LabelError as exc:
            raise ConfigError(f"label_map[{key!r}]: {exc}") from None
    return out


def _resolve(code: str, mapping: dict[str, str | None]) -> str | object | None:
    """Canonical expression of ``code``, ``_EXCLUDED`` when mapped to None, ``None`` when unknown."""
    key = code.strip().lower()
    if key in mapping:
        return _EXCLUDED if mapping[key] is None else mapping[key]
    try:
        return canonical_expression(key)
    except LabelError:
        return None


@register_format("tfeid", description="TFEID: class folders, or a flat folder with name_regex + label_map")
def load_tfeid(
    root: Path,
    settings: LoadSettings,
    *,
    name_regex: str | re.Pattern[str] | None = None,
    label_map: Mapping[str, str | None] | None = None,
) -> FERData:
    """Load TFEID from class folders or a flat folder (see the module docstring).

    Args:
        name_regex: regular expression searched in each file name; group ``expr`` (required for a flat
            folder) codes the expression, optional groups ``subject`` the subject and ``group`` the
            group.
        label_map: ``{folder name or expr code: expression name or None}`` for names the loader does
            not know (keys case-insensitive).

    Raises:
        DatasetError: ``root`` missing or a file, class folders that are not expressions (the message
            lists the folders found, the expected names and how to pass ``label_map``), a flat folder
            without ``name_regex``, or a corrupt image (unless ``skip_corrupt``).
        LabelError: a file's ``expr`` code is not an expression and not in ``label_map``.
        ConfigError: an invalid ``name_regex`` or ``label_map``.
    """
    root = Path(root).expanduser()
    settings = settings.with_default_crop("auto", "tfeid")
    mapping = _normalise_map(label_map)
    require_dir(root, "TFEID class folders (" + " ".join(TFEID_FOLDERS) + ") or a flat folder of images")
    class_dirs = [
        d
        for d in sorted(root.iterdir(), key=lambda p: p.name.lower())
        if d.is_dir() and not d.name.startswith(".") and list_images(d)
    ]
    flat_images = list_images(root, recursive=False)
    skipped: Counter[str] = Counter()
    excluded: Counter[str] = Counter()
    samples: list[Sample] = []
    hint = (
        f"expected class folders named {', '.join(TFEID_FOLDERS)} (any case), or pass "
        "label_map={'<folder>': '<expression>', ...} (a value of None excludes a folder)"
    )
    if class_dirs:
        pattern = _compile(name_regex, need_expr=False)
        resolved = {d: _resolve(d.name, mapping) for d in class_dirs}
        unknown = [d.name for d, name in resolved.items() if name is None]
        if unknown:
            raise DatasetError(
                f"{root}: folder(s) {', '.join(unknown)} are not TFEID expression classes; found folders: "
                f"{describe_folder([d.name for d in class_dirs])}; {hint}"
            )
        for class_dir, name in resolved.items():
            images = list_images(class_dir)
            if name is _EXCLUDED:
                excluded[class_dir.name] += len(images)
                continue
            for path in images:
                subject = None
                if pattern is not None:
                    match = pattern.search(path.name)
                    if match is None:
                        skipped["name does not match name_regex"] += 1
                        continue
                    subject, group = match.groupdict().get("subject"), match.groupdict().get("group")
                else:
                    group = None
                samples.append(Sample(path, str(name), subject=subject, group=group))
        if flat_images:
            skipped["image outside the class folders"] += len(flat_images)
        layout = "class folders"
        rule = "class folder name" + (" (with label_map)" if mapping else "")
    elif flat_images:
        if name_regex is None:
            raise DatasetError(
                f"{root}: a flat folder of {len(flat_images)} images and no class folders; pass name_regex "
                "with a group (?P<expr>...) coding the expression in the file name (and label_map for "
                "codes that are not expression names); found: "
                f"{describe_folder([p.name for p in flat_images])}"
            )
        pattern = _compile(name_regex, need_expr=True)
        assert pattern is not None
        for path in flat_images:
            match = pattern.search(path.name)
            if match is None:
                skipped["name does not match name_regex"] += 1
                continue
            name = _resolve(match["expr"], mapping)
            if name is None:
                raise LabelError(
                    f"{path}: expression code {match['expr']!r} is not an expression name; "
                    "pass label_map={'<code>': '<expression>', ...}"
                )
            if name is _EXCLUDED:
                excluded[match["expr"]] += 1
                continue
            found = match.groupdict()
            samples.append(Sample(path, str(name), subject=found.get("subject"), group=found.get("group")))
        if not samples:
            raise DatasetError(
                f"{root}: no file name matches name_regex {pattern.pattern!r}; found: "
                f"{describe_folder([p.name for p in flat_images])}"
            )
        layout = "flat folder + name_regex"
        rule = f"group expr of name_regex {pattern.pattern!r}" + (" (with label_map)" if mapping else "")
    else:
        entries = sorted(
            p.name + ("/" if p.is_dir() else "") for p in root.iterdir() if not p.name.startswith(".")
        )
        raise DatasetError(f"{root}: no TFEID images found; {hint}; found: {describe_folder(entries)}")
    if samples and any(s.subject is None for s in samples) and any(s.subject is not None for s in samples):
        # a partial subject column is no subject column
        samples = [Sample(s.path, s.code, group=s.group) for s in samples]
    codes = {s.code: str(s.code) for s in samples}
    return build_from_samples(
        "tfeid",
        root,
        samples,
        codes,
        settings,
        extra_provenance={
            "layout": layout,
            "label_rule": rule,
            "label_map": {k: v for k, v in mapping.items()},
            "excluded_by_label_map": dict(excluded),
            "subject_rule": "group subject of name_regex" if samples and samples[0].subject else "none",
        },
        skipped=skipped,
    )
