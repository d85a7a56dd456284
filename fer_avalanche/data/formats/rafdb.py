"""RAF-DB (Real-world Affective Faces, basic emotions): the official release or the Kaggle mirror.

Layouts accepted (``root`` may be the folder shown or its parent, e.g. the release's ``basic/``)::

    # (a) official release
    EmoLabel/list_patition_label.txt     # (sic) lines "train_00001.jpg 5" / "test_0001.jpg 5"
    Image/aligned/train_00001_aligned.jpg   # preferred when present (aligned=True)
    Image/original/train_00001.jpg

    # (b) Kaggle mirror
    DATASET/train/<1..7>/train_00001_aligned.jpg
    DATASET/test/<1..7>/test_0001_aligned.jpg
    train_labels.csv, test_labels.csv    # optional "image,label"; checked against the folders

Codes: 1 surprise, 2 fear, 3 disgust, 4 happy, 5 sad, 6 angry, 7 neutral. The split is the official
one: the file-name prefix (``train`` -> train, ``test`` -> test) or the ``train``/``test`` folder. A
listed image missing on disk is a :class:`~fer_avalanche.errors.DatasetError` naming it, or skipped
and counted with ``skip_corrupt=True``; a malformed label line is an error naming the file and line.
RAF-DB has no subjects. The aligned images are 100x100 face crops, so the default ``face_crop`` is
``"none"`` for them; the originals are whole web photos, so it is ``"auto"`` (the face detected with
OpenCV's Haar cascade when it is installed, else a centre crop with a warning).

Example:
    >>> from fer_avalanche import load_dataset
    >>> data = load_dataset("rafdb", "~/datasets/RAF-DB/basic")  # doctest: +SKIP
    >>> data.counts()  # doctest: +SKIP
    {'train': 12271, 'val': 0, 'test': 3068}
"""

from __future__ import annotations

import csv
from collections import Counter
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
from fer_avalanche.errors import DatasetError, LabelError

__all__ = ["load_rafdb", "RAFDB_CODES"]

#: RAF-DB basic-emotion codes -> expression names.
RAFDB_CODES: dict[int, str] = {
    1: "surprise",
    2: "fear",
    3: "disgust",
    4: "happy",
    5: "sad",
    6: "angry",
    7: "neutral",
}
_LABEL_NAMES = ("list_patition_label.txt", "list_partition_label.txt")
_LAYOUTS = (
    "(a) EmoLabel/list_patition_label.txt + Image/aligned|original/, or (b) DATASET/{train,test}/<1..7>/*.jpg"
)
_MISSING = "listed image missing"


def _label_file(folder: Path) -> Path | None:
    for name in _LABEL_NAMES:
        if (folder / "EmoLabel" / name).is_file():
            return folder / "EmoLabel" / name
    return None


def _parse_code(text: str, where: str) -> int:
    try:
        code = int(text)
    except ValueError:
        raise DatasetError(f"{where}: malformed label {text!r}: expected an integer 1..7") from None
    if code not in RAFDB_CODES:
        raise LabelError(f"{where}: unknown RAF-DB label code {code} (expected 1..7)")
    return code


def _split_of(name: str, where: str) -> str:
    prefix = name.split("_", 1)[0].lower()
    if prefix not in ("train", "test"):
        raise DatasetError(f"{where}: image name {name!r} does not start with train_ or test_")
    return prefix


def _official(
    base: Path, label_file: Path, aligned: bool, skip_corrupt: bool
) -> tuple[list[Sample], Counter[str], dict[str, str]]:
    aligned_dir, original_dir = base / "Image" / "aligned", base / "Image" / "original"
    use_aligned = aligned and aligned_dir.is_dir()
    image_dir = aligned_dir if use_aligned else original_dir
    if not image_dir.is_dir():
        raise DatasetError(
            f"{base}: image folder {image_dir.relative_to(base)} not found (expected Image/aligned/ or "
            f"Image/original/ beside EmoLabel/); found: {describe_folder(base)}"
        )
    samples: list[Sample] = []
    skipped: Counter[str] = Counter()
    with label_file.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields:
                continue
            where = f"{label_file}, line {number}"
            if len(fields) != 2:
                raise DatasetError(
                    f"{where}: malformed line {line.strip()!r}: expected '<image name> <code 1..7>'"
                )
            name, code_text = fields
            code = _parse_code(code_text, where)
            split = _split_of(name, where)
            path = image_dir / (f"{Path(name).stem}_aligned.jpg" if use_aligned else name)
            if not path.is_file():
                if skip_corrupt:
                    skipped[_MISSING] += 1
                    continue
                raise DatasetError(
                    f"{path}: image listed in {where} not found "
                    "(pass skip_corrupt=True to skip missing images)"
                )
            samples.append(Sample(path, code, split=split))
    rule = f"{label_file.name}: '<name> <code>', split from the name prefix; images in {image_dir.name}/"
    facts = {"layout": "official (EmoLabel + Image)", "label_rule": rule, "images": image_dir.name}
    return samples, skipped, facts


def _read_csv_labels(path: Path) -> dict[str, int]:
    labels: dict[str, int] = {}
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle)
        for number, row in enumerate(reader, start=1):
            if not row or (number == 1 and row[0].strip().lower() == "image"):
                continue
            where = f"{path}, line {number}"
            if len(row) < 2:
                raise DatasetError(f"{where}: malformed row {row!r}: expected 'image,label'")
            labels[row[0].strip()] = _parse_code(row[1].strip(), where)
    return labels


def _kaggle(dataset: Path) -> tuple[list[Sample], Counter[str], dict[str, str]]:
    samples: list[Sample] = []
    for split in ("train", "test"):
        split_dir = dataset / split
        if not split_dir.is_dir():
            continue
        csv_path = next(
            (
                p
                for p in (dataset / f"{split}_labels.csv", dataset.parent / f"{split}_labels.csv")
                if p.is_file()
            ),
            None,
        )
        listed = _read_csv_labels(csv_path) if csv_path is not None else {}
        for class_dir in sorted(p for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            code = _parse_code(class_dir.name, f"{class_dir} (class folder)")
            for path in list_images(class_dir, recursive=False):
                key = next((k for k in (path.name, path.name.replace("_aligned", "")) if k in listed), None)
                if key is not None and listed[key] != code:
                    raise DatasetError(
                        f"{path}: in class folder {code} but {csv_path} gives label {listed[key]}"
                    )
                samples.append(Sample(path, code, split=split))
    return (
        samples,
        Counter(),
        {
            "layout": "Kaggle mirror (DATASET/{train,test}/<1..7>)",
            "label_rule": "class folder 1..7 (checked against *_labels.csv when present)",
        },
    )


def _find_kaggle(root: Path) -> Path | None:
    for folder in (root / "DATASET", root / "dataset", root):
        if folder.is_dir() and any((folder / s).is_dir() for s in ("train", "test")):
            split_dirs = [folder / s for s in ("train", "test") if (folder / s).is_dir()]
            if all(any(c.is_dir() and c.name.isdigit() for c in d.iterdir()) for d in split_dirs):
                return folder
    return None


@register_format("rafdb", aliases=("raf-db", "raf"), description="RAF-DB basic emotions (official or Kaggle)")
def load_rafdb(
    root: Path,
    settings: LoadSettings,
    *,
    aligned: bool = True,
) -> FERData:
    """Load RAF-DB (basic emotions) from ``root`` (see the module docstring for the layouts).

    Args:
        aligned: official release: read ``Image/aligned/<stem>_aligned.jpg`` when that folder exists
            (else ``Image/original/<name>``); ``False`` always reads the originals.

    Raises:
        DatasetError: no known layout (the message lists both and what was found), a malformed label
            line (file and line named), a listed image missing or a corrupt image (unless
            ``skip_corrupt``).
        LabelError: a label code outside 1..7.
    """
    root = Path(root).expanduser()
    require_dir(root, f"RAF-DB in one of the layouts {_LAYOUTS}")
    base = next((f for f in (root, root / "basic") if f.is_dir() and _label_file(f) is not None), None)
    if base is not None:
        label_file = _label_file(base)
        assert label_file is not None
        samples, skipped, facts = _official(base, label_file, bool(aligned), settings.skip_corrupt)
        original = facts["images"] == "original"
    else:
        dataset = _find_kaggle(root)
        if dataset is None:
            raise DatasetError(
                f"{root}: not a RAF-DB layout; expected {_LAYOUTS}; found: {describe_folder(root)}"
            )
        samples, skipped, facts = _kaggle(dataset)
        original = False
    settings = settings.with_default_crop("auto" if original else "none", "rafdb")
    return build_from_samples(
        "rafdb",
        root,
        samples,
        RAFDB_CODES,
        settings,
        extra_provenance={**facts, "subject_rule": "none (RAF-DB has no subject ids)"},
        skipped=skipped,
    )
