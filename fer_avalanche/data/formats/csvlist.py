"""Any dataset listed in a CSV file: ``path,label[,subject][,group][,split]``.

Layout accepted::

    labels.csv            header with at least the columns path and label (any order, any case);
                          optional subject, group and split columns; other columns are ignored
    images/0001.png       paths are relative to the CSV's folder (or to ``base_dir``); absolute paths
                          are used as they are

``label`` is an expression name in any known spelling (``happy``, ``Happiness``, ``HA``), or a code
(``3``) mapped by the ``label_map`` setting ``{code: expression name}``. ``split`` is ``train``, ``val``
(``valid``, ``validation``) or ``test``; an empty split is ``train``. ``group`` names images that every
split keeps together (the frames of one video); an empty group makes the image a group of its own.
The default ``face_crop`` is ``"none"`` (the whole frame, cut to its centred square). A malformed row
(missing field, empty path, unknown label or code, unknown split) is a
:class:`~fer_avalanche.errors.DatasetError` naming the CSV and the 1-based line number; a listed
image that is missing or corrupt is an error unless ``skip_corrupt=True`` (then skipped and counted).

Example:
    >>> from fer_avalanche import load_dataset
    >>> data = load_dataset("csv", "~/datasets/mine/labels.csv",
    ...                     label_map={0: "neutral", 1: "happy"})  # doctest: +SKIP
"""

from __future__ import annotations

import csv
from collections.abc import Hashable, Mapping
from pathlib import Path

from fer_avalanche.data.ferdata import FERData, split_code
from fer_avalanche.data.formats._common import LoadSettings, Sample, build_from_samples
from fer_avalanche.data.registry import register_format
from fer_avalanche.errors import ConfigError, DatasetError, LabelError
from fer_avalanche.labels import canonical_expression

__all__ = ["load_csv_list", "REQUIRED_COLUMNS", "OPTIONAL_COLUMNS"]

REQUIRED_COLUMNS = ("path", "label")
OPTIONAL_COLUMNS = ("subject", "group", "split")


def _find_csv(root: Path) -> Path:
    if not root.exists():
        raise DatasetError(
            f"{root}: not found (expected a CSV file with columns path,label[,subject][,group][,split])"
        )
    if root.is_file():
        return root
    candidates = sorted(p for p in root.glob("*.csv") if p.is_file())
    if len(candidates) == 1:
        return candidates[0]
    found = ", ".join(p.name for p in candidates) or "no .csv file"
    raise DatasetError(
        f"{root}: is a folder; expected the CSV list file (path,label[,subject][,group][,split]) or a folder "
        "holding "
        f"exactly one .csv; found {found}"
    )


@register_format(
    "csv",
    aliases=("csv-list", "csvlist"),
    description="generic CSV list: path,label[,subject][,group][,split]",
)
def load_csv_list(
    root: Path,
    settings: LoadSettings,
    *,
    label_map: Mapping[Hashable, str] | None = None,
    base_dir: str | Path | None = None,
    name: str | None = None,
) -> FERData:
    """Load the images listed in the CSV ``root`` (see the module docstring).

    Args:
        label_map: ``{code: expression name}`` for integer (or other) codes in the ``label`` column;
            keys are compared as strings, so ``{3: "happy"}`` matches ``3``.
        base_dir: folder the relative paths are relative to (default: the CSV's folder).
        name: dataset name (default: the CSV's file stem).

    Raises:
        DatasetError: missing CSV, no ``path``/``label`` column, a malformed row (CSV and line number),
            or a missing/corrupt image unless ``skip_corrupt``.

    Example:
        >>> data = load_dataset("csv", "labels.csv", label_map={"0": "angry", "1": "happy"})  # doctest: +SKIP
    """
    root = Path(root).expanduser()
    settings = settings.with_default_crop("none", "csv")
    path = _find_csv(root)
    if label_map is not None and not isinstance(label_map, Mapping):
        raise ConfigError(f"label_map must be a mapping {{code: expression}}, got {label_map!r}")
    codes: dict[str, str] = {}
    for code, expression in (label_map or {}).items():
        try:
            codes[str(code).strip()] = canonical_expression(expression)
        except LabelError as exc:
            raise ConfigError(f"label_map[{code!r}]: {exc}") from None
    base = Path(base_dir).expanduser() if base_dir is not None else path.parent
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read ({exc})") from None
    if not rows:
        raise DatasetError(f"{path}: empty file (expected a header path,label[,subject][,group][,split])")
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise DatasetError(
            f"{path}: header {','.join(rows[0])!r} lacks column(s) {', '.join(missing)} "
            "(expected path,label[,subject][,group][,split])"
        )
    col = {c: header.index(c) for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in header}
    samples: list[Sample] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        at = f"{path}: line {line}"
        if len(row) < len(header):
            raise DatasetError(f"{at}: {len(row)} fields, expected {len(header)} ({','.join(header)})")
        file = row[col["path"]].strip()
        if not file:
            raise DatasetError(f"{at}: empty path")
        label = row[col["label"]].strip()
        if label in codes:
            code = label
        elif label_map is not None:
            raise DatasetError(f"{at}: label {label!r} is not in label_map (codes: {', '.join(codes)})")
        else:
            try:
                code = canonical_expression(label)
            except LabelError as exc:
                hint = (
                    "; integer codes need label_map={code: expression}" if label.lstrip("-").isdigit() else ""
                )
                raise DatasetError(f"{at}: {exc}{hint}") from None
            codes[code] = code
        split = None
        if "split" in col and row[col["split"]].strip():
            try:
                split = row[col["split"]].strip()
                split_code(split)
            except DatasetError as exc:
                raise DatasetError(f"{at}: {exc}") from None
        subject = (row[col["subject"]].strip() or None) if "subject" in col else None
        group = (row[col["group"]].strip() or None) if "group" in col else None
        samples.append(Sample(base / file, code, subject=subject, split=split, group=group))
    if not samples:
        raise DatasetError(f"{path}: no rows after the header")
    return build_from_samples(
        name or path.stem,
        path,
        samples,
        codes,
        settings,
        format_name="csv",
        extra_provenance={
            "layout": f"CSV list {path.name} with columns {','.join(header)}",
            "base_dir": str(base),
            "label_map": {str(k): v for k, v in (label_map or {}).items()} or "expression names",
        },
    )
