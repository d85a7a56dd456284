"""Any dataset stored as class folders: ``root/<split>/<class>/*`` or ``root/<class>/*``.

Layouts accepted::

    root/train/happy/001.png     split folders train | val | valid | validation | test (any case),
    root/test/sad/002.jpg        each holding class folders
    root/happy/001.png           or class folders directly (everything is train: re-split it)

Class folders name expressions: by default any spelling :func:`fer_avalanche.labels.canonical_expression`
understands, in any case (``anger``, ``Happiness``, ``SU``, ...); otherwise pass ``label_map``
``{folder name: expression name}`` (a ``None`` value ignores that folder). A folder that is not in the
map is an error listing the folders found and the names expected, unless ``ignore_unknown=True`` (its
files are then skipped and counted). Images are found recursively inside a class folder; other files
are skipped and counted. ``subject_regex`` (searched in each file name, first group = subject) gives
subject ids for subject-independent splits; ``group_regex`` (the same way) gives group ids: images
that every split keeps together, e.g. the frames of one video (``r"^(S\\d+_\\d+)_"`` for
``S005_001_00000011.png``). The default ``face_crop`` is ``"none"`` (the whole frame, cut to its
centred square): a generic folder may hold anything, so pass ``"detect"`` or ``"center"`` as your
images need.

Example:
    >>> from fer_avalanche import load_dataset
    >>> data = load_dataset("folder", "~/datasets/tfeid", label_map={"hap": "happy", "ang": "angry"},
    ...                     subject_regex=r"^(\\w+?)_", group_regex=r"^(\\w+?_\\d+)_")  # doctest: +SKIP
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
    list_images,
    require_dir,
)
from fer_avalanche.data.imageio import IMAGE_SUFFIXES
from fer_avalanche.data.registry import register_format
from fer_avalanche.errors import ConfigError, DatasetError, LabelError
from fer_avalanche.labels import BASIC8, canonical_expression

__all__ = ["load_folder", "SPLIT_NAMES", "resolve_class_folders"]

#: Split folder names (lower case) -> split.
SPLIT_NAMES = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}


def _dirs(folder: Path) -> list[Path]:
    return sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _compile(setting: str, regex: str | None) -> re.Pattern[str] | None:
    if regex is None:
        return None
    try:
        return re.compile(regex)
    except (re.error, TypeError) as exc:
        raise ConfigError(f"{setting} {regex!r} is not a valid regular expression: {exc}") from None


def _search(pattern: re.Pattern[str] | None, setting: str, path: Path) -> str | None:
    """The first group (or whole match) of ``pattern`` in the file name; an error naming the file."""
    if pattern is None:
        return None
    match = pattern.search(path.name)
    if match is None:
        raise DatasetError(f"{path}: file name does not match {setting} {pattern.pattern!r}")
    return match.group(1) if pattern.groups else match.group(0)


def resolve_class_folders(
    names: list[str], label_map: Mapping[str, str | None] | None
) -> tuple[dict[str, str | None], list[str]]:
    """Map class-folder names to canonical expressions; also return the names that map to nothing.

    With ``label_map`` the lookup is exact first, then case-insensitive; without it, folder names are
    read with :func:`~fer_avalanche.labels.canonical_expression`. ``None`` means "ignore this folder".

    Example:
        >>> resolve_class_folders(["Happy", "anger", "misc"], None)
        ({'Happy': 'happy', 'anger': 'angry'}, ['misc'])
    """
    resolved: dict[str, str | None] = {}
    unknown: list[str] = []
    lowered = {str(k).lower(): v for k, v in (label_map or {}).items()}
    for name in names:
        if label_map is not None:
            if name in label_map:
                target = label_map[name]
            elif name.lower() in lowered:
                target = lowered[name.lower()]
            else:
                unknown.append(name)
                continue
            if target is None:
                resolved[name] = None
                continue
            try:
                resolved[name] = canonical_expression(target)
            except LabelError as exc:
                raise ConfigError(f"label_map[{name!r}]: {exc}") from None
        else:
            try:
                resolved[name] = canonical_expression(name)
            except LabelError:
                unknown.append(name)
    return resolved, unknown


@register_format("folder", aliases=("class-folders", "imagefolder"), description="generic class folders")
def load_folder(
    root: Path,
    settings: LoadSettings,
    *,
    label_map: Mapping[str, str | None] | None = None,
    subject_regex: str | None = None,
    group_regex: str | None = None,
    ignore_unknown: bool = False,
    name: str | None = None,
) -> FERData:
    """Load ``root/<split>/<class>/*`` or ``root/<class>/*`` (see the module docstring).

    Args:
        label_map: ``{class folder: expression name}``; default: folder names are expression names.
        subject_regex: regular expression searched in each file name; its first group (or the whole
            match) is the subject. A file that does not match is an error naming it.
        group_regex: the same for the group (a sequence or take that every split keeps together).
        ignore_unknown: skip (and count) class folders that are not in the map instead of failing.
        name: dataset name (default: the name of ``root``).

    Raises:
        DatasetError: missing root, a file given instead of a folder, no class folders, unknown class
            folders (lists the folders found and the names expected), a file not matching
            ``subject_regex`` or ``group_regex``, or a corrupt image unless ``skip_corrupt``.
        ConfigError: a bad ``subject_regex``, ``group_regex`` or ``label_map`` value.

    Example:
        >>> data = load_dataset("folder", "mine", label_map={"0": "neutral", "1": "happy"})  # doctest: +SKIP
    """
    root = Path(root).expanduser()
    settings = settings.with_default_crop("none", "folder")
    require_dir(root, "class folders (root/<class>/* or root/<split>/<class>/*)")
    if label_map is not None and not isinstance(label_map, Mapping):
        raise ConfigError(f"label_map must be a mapping {{folder name: expression}}, got {label_map!r}")
    pattern = _compile("subject_regex", subject_regex)
    group_pattern = _compile("group_regex", group_regex)
    top = _dirs(root)
    split_dirs = [d for d in top if d.name.lower() in SPLIT_NAMES]
    skipped: Counter[str] = Counter()
    if split_dirs:
        groups = [(d, SPLIT_NAMES[d.name.lower()]) for d in split_dirs]
        others = [d.name for d in top if d not in split_dirs]
        if others:
            if not ignore_unknown:
                raise DatasetError(
                    f"{root}: mixes split folders ({', '.join(d.name for d in split_dirs)}) with other "
                    f"folders ({', '.join(others)}); expected only {', '.join(SPLIT_NAMES)} "
                    "(or pass ignore_unknown=True)"
                )
            skipped["folder outside the split folders"] += len(others)
        layout = "root/<split>/<class>/*"
    else:
        groups = [(root, None)]
        layout = "root/<class>/*"
    samples: list[Sample] = []
    codes: dict[str, str] = {}
    for folder, split in groups:
        classes = _dirs(folder)
        loose = _files(folder)
        if loose:
            skipped["file outside class folders"] += len(loose)
        if not classes:
            raise DatasetError(
                f"{folder}: no class folders found (expected {layout} with folders named by expression, "
                f"e.g. {', '.join(BASIC8.names)}); found {len(loose)} files"
            )
        resolved, unknown = resolve_class_folders([d.name for d in classes], label_map)
        if unknown:
            if not ignore_unknown:
                expected = sorted(label_map) if label_map is not None else list(BASIC8.names)
                raise DatasetError(
                    f"{folder}: class folders {', '.join(unknown)} are not known (found: "
                    f"{', '.join(d.name for d in classes)}; expected {', '.join(map(str, expected))}"
                    f"{'' if label_map is not None else ' or another spelling of them'}); pass label_map="
                    "{folder: expression} or ignore_unknown=True"
                )
            for d in classes:
                if d.name in unknown:
                    skipped[f"unknown class folder ({d.name})"] += len(list_images(d))
        for d in classes:
            if d.name not in resolved:
                continue
            images = list_images(d)
            others = sum(1 for p in d.rglob("*") if p.is_file() and p.suffix.lower() not in IMAGE_SUFFIXES)
            if others:
                skipped["not an image file"] += others
            expression = resolved[d.name]
            if expression is None:
                skipped[f"ignored by label_map ({d.name})"] += len(images)
                continue
            code = expression
            codes[code] = expression
            for path in images:
                subject = _search(pattern, "subject_regex", path)
                group = _search(group_pattern, "group_regex", path)
                samples.append(Sample(path, code, subject=subject, split=split, group=group))
    if not samples:
        raise DatasetError(f"{root}: no images found in the class folders ({layout})")
    return build_from_samples(
        name or root.name or "folder",
        root,
        samples,
        codes,
        settings,
        format_name="folder",
        extra_provenance={
            "layout": layout,
            "label_map": dict(label_map) if label_map is not None else "folder names",
            "subject_rule": f"subject_regex {subject_regex!r}" if subject_regex else "none",
            "group_rule": f"group_regex {group_regex!r}" if group_regex else "none",
        },
        skipped=skipped,
    )
