"""AffectNet (manually annotated part): the official CSV lists, class folders, or ``.npy`` annotations.

Layouts accepted::

    # (a) official release: root holds the lists (or Manually_Annotated_file_lists/ with them)
    training.csv, validation.csv     # subDirectory_filePath,face_x,face_y,face_width,face_height,
                                     # facial_landmarks,expression,valence,arousal
    Manually_Annotated_Images/<subDirectory_filePath>   # or the path directly under root

    # (b) class folders (optionally under train/ and val/ or test/)
    [train/]0/*.jpg ... [train/]7/*.jpg

    # (c) per-image annotations (optionally under train_set/ and val_set/)
    images/N.jpg + annotations/N_exp.npy     # np.load gives the expression code (int or string)

Expression codes: 0 neutral, 1 happy, 2 sad, 3 surprise, 4 fear, 5 disgust, 6 anger, 7 contempt;
8 none, 9 uncertain and 10 no-face are dropped and counted (``provenance["skipped"]``); contempt is
dropped (counted) in ``basic7`` and kept in ``basic8``. In layout (a) the shipped face box
(``face_x, face_y, face_width, face_height``) is used for the crop, as the square around it times
``face_margin`` (``face_crop`` then does not apply); layouts (b) and (c) hold face crops already, so
the default ``face_crop`` is ``"none"``.

Splits: AffectNet's test set is not public, so its validation set (``validation.csv``, ``val/``,
``val_set/``) becomes our ``test`` split and the training set ``train`` (carve a validation split out of
train with :mod:`fer_avalanche.data.splits` if needed). ``max_per_class`` keeps at most that many
images per expression code and split (the first ones in file order), handy for the 280k-image
training set. AffectNet has no subject ids. A listed image missing on disk is an error naming it, or
skipped and counted with ``skip_corrupt=True``.

Example:
    >>> from fer_avalanche import load_dataset
    >>> data = load_dataset("affectnet", "~/datasets/AffectNet", max_per_class=5000)  # doctest: +SKIP
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np

from fer_avalanche.checks import is_int
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

__all__ = ["load_affectnet", "AFFECTNET_CODES", "AFFECTNET_DROPPED"]

#: AffectNet expression codes -> expression names.
AFFECTNET_CODES: dict[int, str] = {
    0: "neutral",
    1: "happy",
    2: "sad",
    3: "surprise",
    4: "fear",
    5: "disgust",
    6: "angry",
    7: "contempt",
}
#: Codes that are not expressions; such images are dropped and counted.
AFFECTNET_DROPPED: dict[int, str] = {8: "none", 9: "uncertain", 10: "no-face"}

CSV_COLUMNS = (
    "subDirectory_filePath",
    "face_x",
    "face_y",
    "face_width",
    "face_height",
    "facial_landmarks",
    "expression",
    "valence",
    "arousal",
)
_CSV_SPLITS = {"training.csv": "train", "validation.csv": "test"}
_FOLDER_SPLITS = {
    "train": "train",
    "training": "train",
    "val": "test",
    "validation": "test",
    "valid": "test",
    "test": "test",
}
_SET_SPLITS = {"train_set": "train", "val_set": "test", "validation_set": "test", "test_set": "test"}
_LAYOUTS = (
    "(a) training.csv/validation.csv + Manually_Annotated_Images/, (b) class folders [train|val/]0..7/, or "
    "(c) [train_set|val_set/]images/N.jpg + annotations/N_exp.npy"
)
_MISSING = "listed image missing"


def _dirs(folder: Path) -> list[Path]:
    return sorted(
        (p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name.lower(),
    )


def _code(text: object, where: str) -> int:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    try:
        value = float(str(text).strip())
    except ValueError:
        raise DatasetError(f"{where}: malformed expression {text!r}: expected an integer 0..10") from None
    if value != int(value) or not (int(value) in AFFECTNET_CODES or int(value) in AFFECTNET_DROPPED):
        raise LabelError(f"{where}: unknown AffectNet expression code {text!r} (expected 0..10)")
    return int(value)


class _Capper:
    """Counts kept images per (split, code) and drops what exceeds ``max_per_class``."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.kept: Counter[tuple[str, int]] = Counter()
        self.excluded = 0

    def admit(self, split: str, code: int) -> bool:
        if self.limit is not None and self.kept[(split, code)] >= self.limit:
            self.excluded += 1
            return False
        self.kept[(split, code)] += 1
        return True


def _drop(skipped: Counter[str], code: int) -> None:
    skipped[f"expression {code} ({AFFECTNET_DROPPED[code]})"] += 1


def _csv_lists(root: Path) -> list[Path]:
    for folder in (root, root / "Manually_Annotated_file_lists"):
        found = [folder / name for name in _CSV_SPLITS if (folder / name).is_file()]
        if found:
            return found
    return []


def _from_csv(
    root: Path, lists: list[Path], capper: _Capper, skip_corrupt: bool
) -> tuple[list[Sample], Counter[str]]:
    bases = [
        root / "Manually_Annotated_Images",
        root / "Manually_Annotated" / "Manually_Annotated_Images",
        root / "Manually_Annotated_compressed" / "Manually_Annotated_Images",
        root,
        lists[0].parent,
    ]
    bases = list(dict.fromkeys(b for b in bases if b.is_dir()))
    samples: list[Sample] = []
    skipped: Counter[str] = Counter()
    for list_file in lists:
        split = _CSV_SPLITS[list_file.name]
        with list_file.open(newline="", encoding="utf-8", errors="replace") as handle:
            reader = csv.reader(handle)
            header = [h.strip() for h in next(reader, [])]
            missing = [
                c
                for c in CSV_COLUMNS
                if c not in header and c not in ("facial_landmarks", "valence", "arousal")
            ]
            if missing:
                raise DatasetError(
                    f"{list_file}: header lacks column(s) {', '.join(missing)}; "
                    f"expected {','.join(CSV_COLUMNS)}; "
                    f"found {','.join(header)[:200]!r}"
                )
            col = {name: header.index(name) for name in CSV_COLUMNS if name in header}
            for number, row in enumerate(reader, start=2):
                if not row or not "".join(row).strip():
                    continue
                where = f"{list_file}, line {number}"
                if len(row) < len(header):
                    raise DatasetError(
                        f"{where}: {len(row)} fields, expected {len(header)} ({','.join(header)})"
                    )
                code = _code(row[col["expression"]], where)
                if code in AFFECTNET_DROPPED:
                    _drop(skipped, code)
                    continue
                try:
                    box = tuple(
                        int(float(row[col[c]])) for c in ("face_x", "face_y", "face_width", "face_height")
                    )
                except ValueError:
                    raise DatasetError(f"{where}: face box is not four numbers") from None
                relative = row[col["subDirectory_filePath"]].strip()
                path = next((b / relative for b in bases if (b / relative).is_file()), None)
                if path is None:
                    if skip_corrupt:
                        skipped[_MISSING] += 1
                        continue
                    searched = ", ".join(str(b) for b in bases)
                    raise DatasetError(
                        f"{relative}: image listed in {where} not found under {searched} "
                        "(pass skip_corrupt=True to skip missing images)"
                    )
                if capper.admit(split, code):
                    samples.append(Sample(path, code, split=split, box=box))  # type: ignore[arg-type]
    return samples, skipped


def _class_folder_roots(root: Path) -> list[tuple[Path, str]]:
    split_dirs = [
        (d, _FOLDER_SPLITS[d.name.lower()]) for d in _dirs(root) if d.name.lower() in _FOLDER_SPLITS
    ]
    candidates = split_dirs or [(root, "train")]
    return [(d, s) for d, s in candidates if any(c.name.isdigit() for c in _dirs(d))]


def _from_class_folders(roots: list[tuple[Path, str]], capper: _Capper) -> tuple[list[Sample], Counter[str]]:
    samples: list[Sample] = []
    skipped: Counter[str] = Counter()
    for folder, split in roots:
        for class_dir in _dirs(folder):
            code = _code(class_dir.name, f"{class_dir} (class folder)")
            for path in list_images(class_dir, recursive=False):
                if code in AFFECTNET_DROPPED:
                    _drop(skipped, code)
                elif capper.admit(split, code):
                    samples.append(Sample(path, code, split=split))
    return samples, skipped


def _npy_roots(root: Path) -> list[tuple[Path, str]]:
    def ok(d: Path) -> bool:
        return (d / "images").is_dir() and (d / "annotations").is_dir()

    sets = [(d, _SET_SPLITS[d.name.lower()]) for d in _dirs(root) if d.name.lower() in _SET_SPLITS and ok(d)]
    return sets or ([(root, "train")] if ok(root) else [])


def _from_npy(
    roots: list[tuple[Path, str]], capper: _Capper, skip_corrupt: bool
) -> tuple[list[Sample], Counter[str]]:
    samples: list[Sample] = []
    skipped: Counter[str] = Counter()
    for folder, split in roots:
        for path in list_images(folder / "images", recursive=False):
            npy = folder / "annotations" / f"{path.stem}_exp.npy"
            if not npy.is_file():
                if skip_corrupt:
                    skipped["annotation missing"] += 1
                    continue
                raise DatasetError(
                    f"{path}: annotation {npy} not found (pass skip_corrupt=True to skip such images)"
                )
            try:
                value = np.load(npy, allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise DatasetError(f"{npy}: cannot read the expression annotation ({exc})") from None
            if value.size != 1:
                raise DatasetError(
                    f"{npy}: expected one expression code, got an array of shape {value.shape}"
                )
            code = _code(value.reshape(()).item(), str(npy))
            if code in AFFECTNET_DROPPED:
                _drop(skipped, code)
            elif capper.admit(split, code):
                samples.append(Sample(path, code, split=split))
    return samples, skipped


@register_format("affectnet", description="AffectNet: training/validation.csv with face boxes, or variants")
def load_affectnet(
    root: Path,
    settings: LoadSettings,
    *,
    max_per_class: int | None = None,
) -> FERData:
    """Load AffectNet from ``root`` (see the module docstring for the layouts and the split rule).

    Args:
        max_per_class: keep at most this many images per expression code and split (``None``: all).

    Raises:
        DatasetError: no known layout (the message lists them and what was found), a CSV without the
            needed columns or with a malformed row (file and line named), a missing image or
            annotation, or a corrupt image (unless ``skip_corrupt``).
        LabelError: an expression code outside 0..10.
    """
    root = Path(root).expanduser()
    settings = settings.with_default_crop("none", "affectnet")
    if max_per_class is not None and (not is_int(max_per_class) or max_per_class < 1):
        raise ConfigError(f"max_per_class must be an integer >= 1 or None, got {max_per_class!r}")
    require_dir(root, f"AffectNet in one of the layouts {_LAYOUTS}")
    capper = _Capper(max_per_class)
    lists = _csv_lists(root)
    if lists:
        samples, skipped = _from_csv(root, lists, capper, settings.skip_corrupt)
        layout, rule = "official CSV lists", "expression column; face box from face_x/y/width/height"
    elif folders := _class_folder_roots(root):
        samples, skipped = _from_class_folders(folders, capper)
        layout, rule = "class folders 0..7", "class folder name = expression code"
    elif sets := _npy_roots(root):
        samples, skipped = _from_npy(sets, capper, settings.skip_corrupt)
        layout, rule = "images/ + annotations/N_exp.npy", "expression code in N_exp.npy"
    else:
        raise DatasetError(
            f"{root}: not an AffectNet layout; expected {_LAYOUTS}; found: {describe_folder(root)}"
        )
    return build_from_samples(
        "affectnet",
        root,
        samples,
        AFFECTNET_CODES,
        settings,
        extra_provenance={
            "layout": layout,
            "label_rule": rule + "; codes 8-10 (none, uncertain, no-face) dropped",
            "split_rule": "training -> train, validation -> test (AffectNet's test set is not public)",
            "max_per_class": max_per_class,
            "excluded_by_max_per_class": capper.excluded,
        },
        skipped=skipped,
    )
