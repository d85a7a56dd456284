"""FER+: FER2013 relabelled by 10 annotators (Microsoft's ``fer2013new.csv`` or the per-split folders).

Layouts accepted::

    fer2013new.csv + fer2013.csv     header Usage,Image name,neutral,happiness,surprise,sadness,anger,
                                     disgust,fear,contempt,unknown,NF; one row per FER2013 row, aligned
                                     with fer2013.csv BY ROW ORDER (not by name); a blank Image name is
                                     not a face. The FER2013 file is the ``fer2013`` setting, or is found
                                     beside fer2013new.csv (fer2013.csv, .csv.gz, fer2013.tar.gz, ...).
    FER2013Train/ FER2013Valid/      per-split folders of fer0000000.png images, each with a headerless
    FER2013Test/                     label.csv: name,"(x, y, w, h)",<10 vote counts in the order above>
                                     (``root`` may also be the folder holding ``data/FER2013Train``)

    fer2013new.csv + FER2013Train/   both (what the FER+ tools leave behind): the folders win, the
      FER2013Valid/ FER2013Test/     images come from them and their labels from fer2013new.csv,
                                     matched by folder (Usage) and file name (Image name); images the
                                     CSV does not list are skipped and counted

Splits: ``Training``/``FER2013Train`` -> train, ``PublicTest``/``FER2013Valid`` -> val,
``PrivateTest``/``FER2013Test`` -> test (the official split).

Label schemes (``scheme`` setting):

- ``"majority"`` (default): votes of 1 are dropped; the top class is kept if it has more than half of
  the remaining votes, otherwise the image is dropped (counted as ``no majority``).
- ``"plurality"``: the class with the most votes; ties are dropped (``tie``).
- ``"soft"``: labels as ``plurality``; the vote distribution over the label space's classes, aligned
  sample for sample with the loaded data, is returned by :func:`vote_distribution` (FERData has no
  field for soft targets).

Whatever the scheme, an image whose winner is ``unknown`` or ``NF`` (not a face) is dropped, and
``contempt`` winners are dropped in ``basic7`` and kept in ``basic8``. Every drop is counted by reason
in ``provenance["skipped"]``.

Example:
    >>> from fer_avalanche import load_dataset
    >>> data = load_dataset("ferplus", "~/datasets/FERPlus/fer2013new.csv",
    ...                     fer2013="~/datasets/fer2013.csv", label_space="basic8")  # doctest: +SKIP
    >>> data = load_dataset("ferplus", "~/datasets/FERPlus")  # fer2013new.csv, data/  # doctest: +SKIP
    >>> soft = vote_distribution("~/datasets/FERPlus/fer2013new.csv",
    ...                          fer2013="~/datasets/fer2013.csv", label_space="basic8")  # doctest: +SKIP
    >>> soft.shape == (len(data), 8)  # doctest: +SKIP
    True
"""

from __future__ import annotations

import csv
import io
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fer_avalanche.data.cache import cached_load
from fer_avalanche.data.ferdata import FERData
from fer_avalanche.data.formats._common import (
    NO_FACE,
    SETTING_NAMES,
    LoadSettings,
    decode_workers,
    describe_folder,
    detection_facts,
    frame_images,
    list_images,
    source_size_facts,
    warn_skipped,
)
from fer_avalanche.data.formats.fer2013 import find_fer2013_csv, read_fer2013_table
from fer_avalanche.data.imageio import FaceDetector, read_grey
from fer_avalanche.data.registry import register_format
from fer_avalanche.errors import ConfigError, DatasetError
from fer_avalanche.labels import LabelSpace

__all__ = [
    "load_ferplus",
    "vote_distribution",
    "vote_winners",
    "FERPLUS_COLUMNS",
    "FERPLUS_EXPRESSIONS",
    "SCHEMES",
    "SPLIT_FOLDERS",
]

#: The 10 vote columns of FER+, in file order.
FERPLUS_COLUMNS = (
    "neutral",
    "happiness",
    "surprise",
    "sadness",
    "anger",
    "disgust",
    "fear",
    "contempt",
    "unknown",
    "NF",
)
#: Canonical expression of each of the first 8 vote columns.
FERPLUS_EXPRESSIONS = ("neutral", "happy", "surprise", "sad", "angry", "disgust", "fear", "contempt")
#: Label schemes accepted by the ``scheme`` setting.
SCHEMES = ("majority", "plurality", "soft")
#: Per-split folder -> split name.
SPLIT_FOLDERS = {"FER2013Train": "train", "FER2013Valid": "val", "FER2013Test": "test"}
_USAGE = {"Training": 0, "PublicTest": 1, "PrivateTest": 2}
_SPLIT_CODE = {"train": 0, "val": 1, "test": 2}
_UNKNOWN, _NF = 8, 9
_NOT_A_FACE = "not a face (blank Image name)"


def vote_winners(votes: np.ndarray, scheme: str = "majority") -> tuple[np.ndarray, list[str | None]]:
    """Winning vote column (0..9) of each row of ``votes [N, 10]``, or -1, with the reason of each -1.

    Example:
        >>> w, why = vote_winners(np.array([[6, 1, 1, 0, 0, 0, 0, 0, 1, 1], [3, 3, 0, 0, 0, 0, 0, 0, 2, 2]]))
        >>> w.tolist(), why
        ([0, -1], [None, 'no majority'])
    """
    if scheme not in SCHEMES:
        raise ConfigError(f"scheme must be one of {', '.join(SCHEMES)}, got {scheme!r}")
    votes = np.asarray(votes, dtype=np.int64).reshape(-1, len(FERPLUS_COLUMNS))
    if scheme == "majority":
        counted = np.where(votes == 1, 0, votes)
        top = counted.argmax(axis=1)
        best = counted[np.arange(len(counted)), top]
        ok = best * 2 > counted.sum(axis=1)
        reason = "no majority"
    else:
        top = votes.argmax(axis=1)
        best = votes[np.arange(len(votes)), top]
        ok = ((votes == best[:, None]).sum(axis=1) == 1) & (best > 0)
        reason = "tie"
    winners = np.where(ok, top, -1)
    return winners, [None if w >= 0 else reason for w in winners.tolist()]


@dataclass
class _Plan:
    """What the label files say, before any image is decoded."""

    layout: str
    files: list[Path]
    votes: np.ndarray  # [M, 10] for the rows that are faces
    split: np.ndarray  # [M] split codes
    refs: list[Any]  # per row: FER2013 row index (CSV layout) or image path (folder layout)
    where: list[str]  # per row: "file:line" for messages
    skipped: Counter[str] = field(default_factory=Counter)
    fer2013: Path | None = None
    rows: int = 0  # data rows of the label file(s), faces or not


def _read_text(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc})") from None
    return list(csv.reader(io.StringIO(text)))


def _votes(values: list[str], where: str) -> list[int]:
    try:
        votes = [int(float(v)) for v in values]
    except ValueError:
        raise DatasetError(f"{where}: vote counts must be integers, got {', '.join(values)}") from None
    if any(v < 0 for v in votes):
        raise DatasetError(f"{where}: negative vote count in {', '.join(values)}")
    return votes


@dataclass
class _Row:
    """One row of fer2013new.csv that is a face."""

    index: int  # 0-based data-row index (the FER2013 row it labels)
    usage: int  # split code
    name: str
    votes: list[int]
    where: str


def _skip_malformed(exc: DatasetError, skip_corrupt: bool, skipped: Counter[str]) -> None:
    """Count a malformed label row (``skip_corrupt``), or raise it saying how to skip such rows."""
    if not skip_corrupt:
        raise DatasetError(f"{exc} (pass skip_corrupt=True to skip malformed rows)") from None
    skipped["malformed label row"] += 1


def _read_ferplus_csv(labels: Path, skip_corrupt: bool) -> tuple[list[_Row], Counter[str], int]:
    """The face rows of ``fer2013new.csv``, what was skipped, and the number of data rows."""
    rows = _read_text(labels)
    header = [h.strip() for h in rows[0]] if rows else []
    expected = ["Usage", "Image name", *FERPLUS_COLUMNS]
    if [h.lower() for h in header] != [h.lower() for h in expected]:
        raise DatasetError(f"{labels}: header {','.join(header)!r} is not FER+'s {','.join(expected)!r}")
    out: list[_Row] = []
    skipped: Counter[str] = Counter()
    n_rows = 0
    for line, row in enumerate(rows[1:], start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        index = n_rows
        n_rows += 1
        at = f"{labels}: line {line}"
        try:
            if len(row) != len(expected):
                raise DatasetError(f"{at}: {len(row)} fields, expected {len(expected)}")
            if row[0].strip() not in _USAGE:
                raise DatasetError(f"{at}: Usage {row[0]!r} is not Training, PublicTest or PrivateTest")
            counts = _votes(row[2:], at)
        except DatasetError as exc:
            _skip_malformed(exc, skip_corrupt, skipped)
            continue
        if not row[1].strip():
            skipped[_NOT_A_FACE] += 1
            continue
        out.append(_Row(index, _USAGE[row[0].strip()], row[1].strip(), counts, at))
    return out, skipped, n_rows


def _plan_csv(labels: Path, fer2013: Path | None, skip_corrupt: bool) -> _Plan:
    rows, skipped, n_rows = _read_ferplus_csv(labels, skip_corrupt)
    if fer2013 is None:
        raise DatasetError(
            f"{labels}: FER+ labels need the FER2013 images: pass fer2013=<path to fer2013.csv, .csv.gz or "
            "fer2013.tar.gz>, put fer2013.csv beside fer2013new.csv, or put the FER2013Train/, "
            "FER2013Valid/, FER2013Test/ image folders beside it"
        )
    return _Plan(
        layout=f"{labels.name} aligned by row order with {fer2013.name}",
        files=[labels, fer2013],
        votes=np.asarray([r.votes for r in rows], dtype=np.int64).reshape(-1, len(FERPLUS_COLUMNS)),
        split=np.asarray([r.usage for r in rows], dtype=np.int64),
        refs=[r.index for r in rows],
        where=[r.where for r in rows],
        skipped=skipped,
        fer2013=fer2013,
        rows=n_rows,
    )


def _split_folders(root: Path, need_labels: bool = True) -> list[Path]:
    """The FER2013Train/Valid/Test folders under ``root`` (or ``root/data``); with ``need_labels``
    only those holding a ``label.csv``."""
    for base in (root, root / "data"):
        found = [
            base / name
            for name in SPLIT_FOLDERS
            if (base / name / "label.csv").is_file() or (not need_labels and (base / name).is_dir())
        ]
        if found:
            return found
    return []


def _plan_folders(root: Path, folders: list[Path], skip_corrupt: bool) -> _Plan:
    votes, split, refs, where, files = [], [], [], [], []
    skipped: Counter[str] = Counter()
    n_rows = 0
    for folder in folders:
        labels = folder / "label.csv"
        files.append(labels)
        for line, row in enumerate(_read_text(labels), start=1):
            if not row or not any(cell.strip() for cell in row):
                continue
            n_rows += 1
            at = f"{labels}: line {line}"
            try:
                if len(row) != 2 + len(FERPLUS_COLUMNS):
                    raise DatasetError(
                        f"{at}: {len(row)} fields, expected {2 + len(FERPLUS_COLUMNS)} "
                        '(name,"(x, y, w, h)",<10 vote counts>)'
                    )
                counts = _votes(row[2:], at)
            except DatasetError as exc:
                _skip_malformed(exc, skip_corrupt, skipped)
                continue
            if not row[0].strip():
                skipped[_NOT_A_FACE] += 1
                continue
            votes.append(counts)
            split.append(_SPLIT_CODE[SPLIT_FOLDERS[folder.name]])
            refs.append(folder / row[0].strip())
            where.append(at)
    return _Plan(
        layout="per-split folders " + ", ".join(f"{f.name}/" for f in folders) + " with label.csv",
        files=files,
        votes=np.asarray(votes, dtype=np.int64).reshape(-1, len(FERPLUS_COLUMNS)),
        split=np.asarray(split, dtype=np.int64),
        refs=refs,
        where=where,
        skipped=skipped,
        rows=n_rows,
    )


_FOLDER_OF_USAGE = {code: name for name, code in zip(SPLIT_FOLDERS, range(3), strict=True)}
_NOT_LISTED = "image not in fer2013new.csv"


def _plan_folders_csv(labels: Path, folders: list[Path], skip_corrupt: bool) -> _Plan:
    """Images from the per-split folders, labels from ``fer2013new.csv`` matched by (folder, file name)."""
    rows, skipped, n_rows = _read_ferplus_csv(labels, skip_corrupt)
    present = {f.name: f for f in folders}
    listed = {(_FOLDER_OF_USAGE[r.usage], r.name): r for r in rows}
    votes, split, refs, where = [], [], [], []
    for folder in folders:
        names = {p.name for p in list_images(folder, recursive=False)}
        for name in sorted(names):
            row = listed.get((folder.name, name))
            if row is None:
                skipped[_NOT_LISTED] += 1
                continue
            votes.append(row.votes)
            split.append(row.usage)
            refs.append(folder / name)
            where.append(f"{row.where} ({folder.name}/{name})")
    missing = [
        r
        for r in rows
        if _FOLDER_OF_USAGE[r.usage] in present
        and not (present[_FOLDER_OF_USAGE[r.usage]] / r.name).is_file()
    ]
    if missing:
        if not skip_corrupt:
            first = missing[0]
            raise DatasetError(
                f"{first.where}: image {_FOLDER_OF_USAGE[first.usage]}/{first.name} not found under "
                f"{folders[0].parent} ({len(missing)} listed images missing; pass skip_corrupt=True to "
                "skip them)"
            )
        skipped["listed image missing"] += len(missing)
    absent = sorted({_FOLDER_OF_USAGE[r.usage] for r in rows} - set(present))
    layout = (
        "per-split folders "
        + ", ".join(f"{f.name}/" for f in folders)
        + f" with labels from {labels.name} by file name"
        + (f" (no {', '.join(absent)} folder: those rows unused)" if absent else "")
    )
    return _Plan(
        layout=layout,
        files=[labels],
        votes=np.asarray(votes, dtype=np.int64).reshape(-1, len(FERPLUS_COLUMNS)),
        split=np.asarray(split, dtype=np.int64),
        refs=refs,
        where=where,
        skipped=skipped,
        rows=n_rows,
    )


def _plan(root: Path, fer2013: str | Path | None, skip_corrupt: bool) -> _Plan:
    given = Path(fer2013).expanduser() if fer2013 is not None else None
    if given is not None and not given.exists():
        raise DatasetError(f"{given}: FER2013 file not found (the fer2013 setting)")
    if not root.exists():
        raise DatasetError(
            f"{root}: not found (expected fer2013new.csv, or a folder holding it or FER2013Train/, "
            "FER2013Valid/, FER2013Test/ with label.csv)"
        )
    if root.is_file():
        return _plan_csv(root, given or find_fer2013_csv(root.parent), skip_corrupt)
    csv_file = next(
        (p for p in (root / "fer2013new.csv", root.parent / "fer2013new.csv") if p.is_file()), None
    )
    image_folders = _split_folders(root, need_labels=False)
    if image_folders and csv_file is not None and any(list_images(f, recursive=False) for f in image_folders):
        return _plan_folders_csv(csv_file, image_folders, skip_corrupt)  # both layouts: the folders win
    folders = _split_folders(root)
    if folders:
        return _plan_folders(root, folders, skip_corrupt)
    if (root / "fer2013new.csv").is_file():
        return _plan_csv(root / "fer2013new.csv", given or find_fer2013_csv(root), skip_corrupt)
    raise DatasetError(
        f"{root}: no FER+ data found (expected fer2013new.csv, or FER2013Train/, FER2013Valid/, FER2013Test/ "
        f"folders each with a label.csv); found: {describe_folder(root)}"
    )


def _select(plan: _Plan, space: LabelSpace, scheme: str) -> tuple[np.ndarray, np.ndarray, Counter[str]]:
    """Positions of the rows kept by the scheme and the label space, their labels, and the drops."""
    winners, reasons = vote_winners(plan.votes, scheme)
    labels_of = space.map_codes(dict(enumerate(FERPLUS_EXPRESSIONS)))
    keep, labels = [], []
    skipped: Counter[str] = Counter(plan.skipped)
    for i, (w, why) in enumerate(zip(winners.tolist(), reasons, strict=True)):
        if why is not None:
            skipped[why] += 1
        elif w == _UNKNOWN:
            skipped["unknown wins"] += 1
        elif w == _NF:
            skipped["not a face (NF wins)"] += 1
        elif labels_of[w] is None:
            skipped[f"outside {space.name} ({FERPLUS_EXPRESSIONS[w]})"] += 1
        else:
            keep.append(i)
            labels.append(labels_of[w])
    return np.asarray(keep, dtype=np.int64), np.asarray(labels, dtype=np.int64), skipped


def _csv_images(
    plan: _Plan, keep: np.ndarray, settings: LoadSettings, detector: FaceDetector | None
) -> tuple[np.ndarray, np.ndarray, Counter[str]]:
    assert plan.fer2013 is not None
    table = read_fer2013_table(plan.fer2013, skip_corrupt=settings.skip_corrupt)
    if table.rows != plan.rows:
        raise DatasetError(
            f"{plan.files[0]} has {plan.rows} rows but {table.source} has {table.rows}: FER+ is aligned with "
            "FER2013 by row order, so it needs the complete original fer2013.csv (same rows, same order)"
        )
    position = np.full(table.rows, -1, dtype=np.int64)
    position[table.index] = np.arange(len(table.index))
    rows = np.asarray([plan.refs[i] for i in keep.tolist()], dtype=np.int64)
    at = position[rows]
    if table.usage is not None:
        ours = plan.split[keep]
        wrong = np.flatnonzero((at >= 0) & (table.usage[np.maximum(at, 0)] != ours))
        if len(wrong):
            i = int(keep[wrong[0]])
            raise DatasetError(
                f"{plan.where[i]}: its Usage does not match line {table.lines[at[wrong[0]]]} of "
                f"{table.source}: the two files are not aligned (FER+ needs the original fer2013.csv, "
                "same rows, same order)"
            )
    ok = at >= 0  # rows FER2013 itself skipped as malformed (skip_corrupt)
    images, framed, hows = frame_images(table.pixels[at[ok]], settings, detector)
    ok[np.flatnonzero(ok)[~framed]] = False
    return images, ok, hows


def _folder_images(
    plan: _Plan, keep: np.ndarray, settings: LoadSettings, detector: FaceDetector | None
) -> tuple[np.ndarray, np.ndarray, Counter[str], Counter[str], Counter[tuple[int, int]]]:
    def decode(i: int) -> tuple[np.ndarray | None, str, tuple[int, int]] | DatasetError:
        try:
            grey = read_grey(plan.refs[i])
        except DatasetError as exc:
            return exc
        image, how = settings.frame(grey, detector)
        return image, how, grey.shape

    with ThreadPoolExecutor(decode_workers()) as pool:
        results = list(pool.map(decode, keep.tolist()))
    images, ok = [], np.ones(len(keep), dtype=bool)
    sizes: Counter[tuple[int, int]] = Counter()
    hows: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    for j, result in enumerate(results):
        if isinstance(result, DatasetError):
            if not settings.skip_corrupt:
                raise DatasetError(f"{result} (pass skip_corrupt=True to skip such files)")
            warnings.warn(f"skipping {result}", stacklevel=4)
            ok[j] = False
            dropped["unreadable image"] += 1
            continue
        image, how, size = result
        sizes[size] += 1
        hows[how] += 1
        if image is None:
            ok[j] = False
            dropped[NO_FACE] += 1
            continue
        images.append(image)
    if not images:
        raise DatasetError(f"{plan.files[0].parent.parent}: no readable FER+ images")
    return np.stack(images), ok, hows, dropped, sizes


@register_format(
    "ferplus",
    aliases=("fer+", "fer-plus"),
    description="FER+: fer2013new.csv votes aligned with fer2013.csv, or FER2013Train/Valid/Test folders",
)
def load_ferplus(
    root: Path,
    settings: LoadSettings,
    *,
    fer2013: str | Path | None = None,
    scheme: str = "majority",
) -> FERData:
    """Load FER+ (see the module docstring for layouts and label schemes).

    The images are FER2013's 48x48 face crops, so the default ``face_crop`` is ``"none"``.

    Args:
        fer2013: the FER2013 CSV (``.csv``, ``.csv.gz`` or ``fer2013.tar.gz``) that ``fer2013new.csv``
            labels; found beside it when not given. Unused by the folder layouts.
        scheme: ``"majority"``, ``"plurality"`` or ``"soft"`` (see :func:`vote_distribution`).

    Raises:
        DatasetError: nothing FER+-like at ``root`` (lists what was found), no FER2013 file for the CSV
            layout, the two files not aligned (row counts or ``Usage`` differ), a malformed row (file and
            line) or a corrupt image unless ``skip_corrupt``.
        ConfigError: unknown ``scheme``.

    Example:
        >>> data = load_dataset("ferplus", "FERPlus/data", scheme="plurality")  # doctest: +SKIP
    """
    data, _ = _load(Path(root).expanduser(), settings, fer2013, scheme)
    return data


def _load(
    root: Path, settings: LoadSettings, fer2013: str | Path | None, scheme: str
) -> tuple[FERData, tuple[_Plan, np.ndarray]]:
    settings = settings.with_default_crop("none", "ferplus")
    if scheme not in SCHEMES:
        raise ConfigError(f"scheme must be one of {', '.join(SCHEMES)}, got {scheme!r}")
    plan = _plan(root, fer2013, settings.skip_corrupt)
    keep, labels, skipped = _select(plan, settings.label_space, scheme)
    if len(keep) == 0:
        raise DatasetError(f"{root}: no FER+ image has a usable label ({dict(skipped)})")
    detector = settings.detector()  # before any thread starts

    def build() -> FERData:
        dropped = Counter(skipped)
        if plan.fer2013 is not None:
            images, ok, hows = _csv_images(plan, keep, settings, detector)
            facts: dict[str, Any] = {"source_size": [48, 48], "fer2013": str(plan.fer2013)}
            if not ok.all():
                no_face = int(hows.get("fallback", 0)) if settings.detect_fallback == "skip" else 0
                if no_face:
                    dropped[NO_FACE] += no_face
                if int((~ok).sum()) - no_face:
                    dropped["malformed FER2013 row"] += int((~ok).sum()) - no_face
        else:
            images, ok, hows, lost, sizes = _folder_images(plan, keep, settings, detector)
            facts = source_size_facts(sizes)
            dropped.update(lost)
        provenance = {
            "format": "ferplus",
            "root": str(root),
            "layout": plan.layout,
            "rows": plan.rows,
            "skipped": dict(dropped),
            "preprocessing": settings.key(detector),
            **detection_facts(hows, settings),
            **facts,
            "split": "official",
            "split_rule": "Usage / folder: Training|FER2013Train->train, PublicTest|FER2013Valid->val, "
            "PrivateTest|FER2013Test->test",
            "scheme": scheme,
            "label_rule": {
                "majority": "votes of 1 dropped; top class kept if it has more than half of the votes",
                "plurality": "class with the most votes; ties dropped",
                "soft": "labels = plurality (ties dropped); vote distribution via vote_distribution()",
            }[scheme],
            # positions (in the scheme's kept rows) dropped while decoding: lets vote_distribution align
            "dropped_positions": np.flatnonzero(~ok).tolist(),
        }
        return FERData(
            name="ferplus",
            images=torch.from_numpy(np.ascontiguousarray(images)[:, None]),
            labels=torch.from_numpy(labels[ok]),
            split=torch.from_numpy(plan.split[keep][ok]),
            label_space=settings.label_space,
            provenance=provenance,
        )

    files = list(plan.files)
    if plan.fer2013 is None:
        files += [plan.refs[i] for i in keep.tolist() if Path(plan.refs[i]).exists()]
    data = cached_load(
        "ferplus",
        files,
        {**settings.key(detector), "scheme": scheme, "kept": int(len(keep)), "layout": plan.layout},
        build,
        settings.cache_dir,
        settings.use_cache,
    )
    warn_skipped("ferplus", data.provenance.get("skipped", {}))
    return data, (plan, keep)


def vote_distribution(
    root: str | Path, *, fer2013: str | Path | None = None, scheme: str = "soft", **settings: object
) -> torch.Tensor:
    """The FER+ vote distribution (soft targets) aligned sample for sample with ``load_dataset("ferplus")``.

    Takes the same settings as the ``ferplus`` loader (it loads, from the cache when warm, to know which
    samples were kept) and returns ``float32 [N, K]``: each sample's votes over the ``K`` classes of
    the label space (``unknown``, ``NF``, and ``contempt`` in ``basic7``, excluded), normalised to sum 1.

    Example:
        >>> soft = vote_distribution("FERPlus/fer2013new.csv", fer2013="fer2013.csv")  # doctest: +SKIP
        >>> soft.sum(dim=1)[:3]  # doctest: +SKIP
        tensor([1., 1., 1.])
    """
    unknown = sorted(set(settings) - set(SETTING_NAMES))
    if unknown:
        raise ConfigError(
            f"vote_distribution has no setting {unknown[0]!r}; valid: fer2013, scheme, "
            + ", ".join(SETTING_NAMES)
        )
    data, (plan, keep) = _load(Path(root).expanduser(), LoadSettings.make(**settings), fer2013, scheme)
    mask = np.ones(len(keep), dtype=bool)
    mask[np.asarray(data.provenance.get("dropped_positions", []), dtype=np.int64)] = False
    columns = [FERPLUS_EXPRESSIONS.index(name) for name in data.label_space.names]
    votes = plan.votes[keep[mask]][:, columns].astype(np.float32)
    dist = votes / np.maximum(votes.sum(axis=1, keepdims=True), 1.0)
    if len(dist) != len(data):
        raise DatasetError(
            f"{root}: vote distribution ({len(dist)}) does not align with the data ({len(data)})"
        )
    return torch.from_numpy(dist)
