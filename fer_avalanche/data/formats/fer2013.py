"""FER2013: the CSV of 48x48 grey faces (and its variants met in the wild), or Kaggle's image folders.

Layouts accepted (``root`` may be the file itself or a folder holding one of them, searched in this
order)::

    fer2013.csv            header emotion,pixels,Usage; pixels = 2304 space-separated ints (48x48)
    fer2013.csv.gz         the same, gzipped
    fer2013/fer2013.csv    the extracted Kaggle archive
    fer2013.tar.gz         Kaggle's archive, read in place (member fer2013/fer2013.csv), never extracted
    icml_face_data.csv     header "emotion, Usage, pixels" (spaces after the commas)
    train.csv              Kaggle competition file, header emotion,pixels: everything is train
    train/<class>/*.jpg    Kaggle "msambare" image folders; test/<class>/*.jpg holds PublicTest_* (val)
    test/<class>/*.jpg     and PrivateTest_* (test) files; class folders angry disgust fear happy ...

``emotion`` is ``0 angry, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral`` (the ``basic7``
order). The official split comes from ``Usage``: ``Training`` -> train, ``PublicTest`` -> val,
``PrivateTest`` -> test. Totals are never assumed (copies in the wild differ by a few rows). Kaggle's
``test.csv`` has no labels and is refused with a message saying so.

A malformed row (wrong number of fields or pixels, a non-integer or out-of-range pixel, an emotion
outside ``0..6``, an unknown ``Usage``) is a :class:`~fer_avalanche.errors.DatasetError` naming the file
and its 1-based line number, unless ``skip_corrupt=True``: then it is skipped, counted by reason in
``provenance["skipped"]`` and warned about.

The CSV is parsed in bulk (NumPy over the concatenated pixel strings), so the first load of the full
file takes seconds; the result is cached (:mod:`fer_avalanche.data.cache`) and later loads are instant.

Example:
    >>> from fer_avalanche import load_dataset
    >>> data = load_dataset("fer2013", "~/datasets/fer2013.csv.gz")  # doctest: +SKIP
    >>> data.counts()  # doctest: +SKIP
    {'train': 28709, 'val': 3589, 'test': 3589}
"""

from __future__ import annotations

import gzip
import queue
import tarfile
import threading
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch

from fer_avalanche.data.cache import cached_load
from fer_avalanche.data.ferdata import FERData
from fer_avalanche.data.formats._common import (
    NO_FACE,
    LoadSettings,
    Sample,
    build_from_samples,
    describe_folder,
    detection_facts,
    frame_images,
    list_images,
    warn_skipped,
)
from fer_avalanche.data.registry import register_format
from fer_avalanche.errors import DatasetError, LabelError
from fer_avalanche.labels import BASIC7, canonical_expression

__all__ = [
    "load_fer2013",
    "read_fer2013_table",
    "find_fer2013_csv",
    "Fer2013Table",
    "FER2013_SIDE",
    "USAGE_SPLITS",
]

#: Side of a FER2013 image in pixels (2304 = 48 * 48 values per row).
FER2013_SIDE = 48
_NPIX = FER2013_SIDE * FER2013_SIDE

#: ``Usage`` value -> split code (0 train, 1 val, 2 test).
USAGE_SPLITS: dict[str, int] = {"Training": 0, "PublicTest": 1, "PrivateTest": 2}

#: File names searched for in a folder, in order of preference.
CSV_NAMES = (
    "fer2013.csv",
    "fer2013.csv.gz",
    "fer2013/fer2013.csv",
    "fer2013/fer2013.csv.gz",
    "fer2013.tar.gz",
    "fer2013.tgz",
    "fer2013.tar",
    "icml_face_data.csv",
    "icml_face_data.csv.gz",
    "train.csv",
    "train.csv.gz",
)
_TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz")
_EMOTIONS = {str(i).encode(): i for i in range(7)}
_USAGES = {k.encode(): v for k, v in USAGE_SPLITS.items()}
_CHUNK_ROWS = 1024


@dataclass
class Fer2013Table:
    """The rows of a FER2013-style CSV, parsed.

    Attributes:
        pixels: ``uint8 [N, 48, 48]``.
        emotion: ``int64 [N]`` codes ``0..6``.
        usage: ``int64 [N]`` split codes (0 train, 1 val, 2 test), or ``None`` when the file has no
            ``Usage`` column (Kaggle's ``train.csv``).
        lines: ``int64 [N]`` 1-based line number of each kept row in the file.
        index: ``int64 [N]`` 0-based data-row index of each kept row (blank lines not counted): the
            position FER+ aligns with.
        rows: number of data rows read (kept + skipped).
        skipped: rows skipped (``skip_corrupt=True``) by reason.
        columns: the header's column names (lower-cased, stripped).
        source: the file read, with the tar member when it came from an archive.
    """

    pixels: np.ndarray
    emotion: np.ndarray
    usage: np.ndarray | None
    lines: np.ndarray
    index: np.ndarray
    rows: int
    skipped: Counter[str] = field(default_factory=Counter)
    columns: list[str] = field(default_factory=list)
    source: str = ""


def _is_tar(path: Path) -> bool:
    return path.name.lower().endswith(_TAR_SUFFIXES)


_BLOCK = 8 << 20


def _open_csv(path: Path) -> tuple[BinaryIO, str, Callable[[], None]]:
    """A binary stream of the (decompressed) CSV, its name, and a function closing what was opened.

    ``path`` may be a plain CSV, a gzipped one, or a tar archive holding ``fer2013/fer2013.csv``
    (read in place, never extracted to disk).
    """
    try:
        if _is_tar(path):
            tar = tarfile.open(path, "r:*")
            members = [m for m in tar.getmembers() if m.isfile() and m.name.lower().endswith(".csv")]
            member = next((m for m in members if m.name.lstrip("./") == "fer2013/fer2013.csv"), None) or next(
                (m for m in members if Path(m.name).name in ("fer2013.csv", "icml_face_data.csv")), None
            )
            if member is None:
                found = ", ".join(m.name for m in tar.getmembers()[:8]) or "nothing"
                tar.close()
                raise DatasetError(f"{path}: no fer2013/fer2013.csv inside the archive (found: {found})")
            fh = tar.extractfile(member)
            assert fh is not None
            return fh, f"{path}:{member.name}", tar.close
        with open(path, "rb") as probe:
            head = probe.read(2)
        stream: BinaryIO = gzip.open(path, "rb") if head == b"\x1f\x8b" else open(path, "rb")
        return stream, str(path), stream.close
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found (expected a FER2013 CSV)") from None
    except (OSError, EOFError, tarfile.TarError) as exc:
        raise DatasetError(f"{path}: cannot read ({exc})") from None


def _blocks(path: Path) -> tuple[Iterator[bytes], str]:
    """Decompressed blocks of the CSV, read ahead by a background thread (zlib releases the GIL, so
    decompression overlaps with parsing), and the source's name."""
    stream, source, close = _open_csv(path)
    out: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=4)
    stop = threading.Event()

    def put(item: bytes | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            while block := stream.read(_BLOCK):
                if not put(block):
                    return
            put(None)
        except BaseException as exc:  # handed to the consumer
            put(exc)
        finally:
            close()

    thread = threading.Thread(target=produce, name="fer2013-read", daemon=True)
    thread.start()

    def iterate() -> Iterator[bytes]:
        try:
            while True:
                item = out.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    if isinstance(item, (OSError, EOFError, tarfile.TarError)):
                        raise DatasetError(f"{source}: cannot read ({item})") from None
                    raise item
                yield item
        finally:
            stop.set()  # a consumer that stops early (a malformed row) releases the reader thread

    return iterate(), source


def _lines(blocks: Iterator[bytes]) -> Iterator[bytes]:
    """Lines (without the newline) of a stream of blocks."""
    rest = b""
    for block in blocks:
        parts = (rest + block).split(b"\n") if rest else block.split(b"\n")
        rest = parts.pop()
        yield from parts
    if rest:
        yield rest


def _clean(value: bytes) -> bytes:
    return value.strip().strip(b'"').strip()


def _parse_pixels(rows: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Bulk-parse pixel strings: NumPy over the concatenated bytes, no per-token Python.

    A pixel string is 2304 decimal integers in 0..255 separated by whitespace (quotes and a carriage
    return are tolerated). Returns ``uint8 [k, 2304]`` for the ``k`` valid rows and a boolean mask of
    the valid rows; invalid ones are diagnosed by :func:`_diagnose` (it only runs on those). NumPy
    releases the GIL, so this runs in a worker thread while the main thread checks the other fields.
    """
    b = np.frombuffer(b"\n" + b"\n".join(rows) + b"\n", dtype=np.uint8)
    digit = (b - np.uint8(48)) < 10
    newlines = np.flatnonzero(b == 10)
    # any byte that is neither a digit nor a separator (space, tab, CR, LF, quote) spoils its row
    strange = np.flatnonzero(~digit & (b != 32) & (b != 10) & (b != 13) & (b != 34) & (b != 9))
    ends = np.flatnonzero(digit[:-1] & ~digit[1:])  # last digit of each token
    starts = np.flatnonzero(~digit[:-1] & digit[1:]) + 1
    length = ends - starts + 1
    values = b[ends].astype(np.int16) - 48
    values += (b[ends - 1].astype(np.int16) - 48) * 10 * (length >= 2)
    values += (b[ends - 2].astype(np.int16) - 48) * 100 * (length >= 3)
    values[length >= 4] = 1000
    row = np.searchsorted(newlines, ends) - 1
    valid = np.bincount(row, minlength=len(rows)) == _NPIX
    valid[np.searchsorted(newlines, strange) - 1] = False
    valid[row[values > 255]] = False
    if not valid.all():
        values = values[valid[row]]
    return values.reshape(-1, _NPIX).astype(np.uint8), valid


def _diagnose(pixels: bytes) -> tuple[str, str]:
    """Reason (for counting) and message of a pixel string that :func:`_parse_pixels` rejected."""
    tokens = _clean(pixels).split()
    if len(tokens) != _NPIX:
        return "wrong pixel count", f"{len(tokens)} pixel values, expected {_NPIX} (48x48)"
    wrong = next((t for t in tokens if not t.isdigit()), None)
    if wrong is not None:
        return "non-integer pixel", f"pixel value {wrong[:20].decode(errors='replace')!r} is not an integer"
    high = next((t for t in tokens if int(t) > 255), b"?")
    return "pixel value > 255", f"pixel value {high[:20].decode(errors='replace')} is not in 0..255"


class _RowErrors:
    """Raise on a malformed row, or count it when skipping corrupt rows."""

    def __init__(self, source: str, skip: bool) -> None:
        self.source, self.skip = source, skip
        self.skipped: Counter[str] = Counter()
        self.examples: list[str] = []

    def __call__(self, line: int, reason: str, detail: str) -> None:
        message = f"{self.source}: line {line}: {detail}"
        if not self.skip:
            raise DatasetError(f"{message} (pass skip_corrupt=True to skip malformed rows)")
        self.skipped[reason] += 1
        if len(self.examples) < 3:
            self.examples.append(message)


def read_fer2013_table(path: str | Path, *, skip_corrupt: bool = False) -> Fer2013Table:
    """Parse a FER2013-style CSV (plain, ``.gz`` or inside a tar archive) into arrays.

    Accepts the column orders ``emotion,pixels,Usage``, ``emotion, Usage, pixels`` and
    ``emotion,pixels``; extra columns are ignored. Reading, row checks and pixel parsing run in
    three overlapping threads; pixel strings are parsed in bulk with NumPy.

    Raises:
        DatasetError: unreadable file, no ``pixels``/``emotion`` column (Kaggle's unlabeled
            ``test.csv``), no rows, or a malformed row (file and 1-based line number in the message)
            unless ``skip_corrupt``.

    Example:
        >>> table = read_fer2013_table("fer2013.csv.gz")  # doctest: +SKIP
        >>> table.pixels.shape, table.usage[:3]  # doctest: +SKIP
        ((35887, 48, 48), array([0, 0, 0]))
    """
    path = Path(path)
    blocks, source = _blocks(path)
    lines = _lines(blocks)
    header = next(lines, b"")
    if header.startswith(b"\xef\xbb\xbf"):
        header = header[3:]
    columns = [_clean(h).decode("utf-8", "replace").lower() for h in header.split(b",")]
    if "pixels" not in columns:
        raise DatasetError(
            f"{source}: not a FER2013 CSV: header {header[:80].decode('utf-8', 'replace').strip()!r} "
            "has no 'pixels' column (expected emotion,pixels,Usage)"
        )
    if "emotion" not in columns:
        raise DatasetError(
            f"{source}: has no 'emotion' column: this looks like Kaggle's unlabeled test.csv, which cannot "
            "be used for training or evaluation; give fer2013.csv (or .csv.gz, fer2013.tar.gz, "
            "icml_face_data.csv, train.csv) instead"
        )
    ie, ip = columns.index("emotion"), columns.index("pixels")
    iu = columns.index("usage") if "usage" in columns else None
    ncol = len(columns)
    bad = _RowErrors(source, skip_corrupt)
    pix: list[bytes] = []
    emo: list[int] = []
    use: list[int] = []
    nums: list[int] = []
    index: list[int] = []
    parsed: list[Future[tuple[np.ndarray, np.ndarray]]] = []
    rows = 0
    with ThreadPoolExecutor(1, thread_name_prefix="fer2013-parse") as pool:
        for n, line in enumerate(lines, start=2):
            if not line.strip():  # a blank line (spaces, a carriage return): cheap, strip stops at a digit
                continue
            rows += 1
            parts = line.split(b",")
            if len(parts) != ncol:
                bad(
                    n, "wrong number of fields", f"{len(parts)} fields, expected {ncol} ({','.join(columns)})"
                )
                continue
            e = _EMOTIONS.get(_clean(parts[ie]))
            if e is None:
                value = _clean(parts[ie])[:20].decode(errors="replace")
                bad(n, "emotion not in 0..6", f"emotion {value!r} is not 0..6")
                continue
            u = 0
            if iu is not None:
                u = _USAGES.get(_clean(parts[iu]), -1)
                if u < 0:
                    value = _clean(parts[iu])[:30].decode(errors="replace")
                    bad(n, "unknown Usage", f"Usage {value!r} is not Training, PublicTest or PrivateTest")
                    continue
            p = parts[ip]
            pix.append(p)
            emo.append(e)
            use.append(u)
            nums.append(n)
            index.append(rows - 1)
            if len(pix) - len(parsed) * _CHUNK_ROWS == _CHUNK_ROWS:
                parsed.append(pool.submit(_parse_pixels, pix[-_CHUNK_ROWS:]))
        done = len(parsed) * _CHUNK_ROWS
        if done < len(pix):
            parsed.append(pool.submit(_parse_pixels, pix[done:]))
        pixels = np.empty((len(nums), _NPIX), dtype=np.uint8)
        keep = np.ones(len(nums), dtype=bool)
        filled = 0
        for k, future in enumerate(parsed):
            values, valid = future.result()
            start = k * _CHUNK_ROWS
            for j in np.flatnonzero(~valid):
                bad(nums[start + j], *_diagnose(pix[start + j]))
                keep[start + j] = False
            pixels[filled : filled + len(values)] = values
            filled += len(values)
        del pix
    if bad.skipped:
        warnings.warn(
            f"{source}: skipped {sum(bad.skipped.values())} malformed rows, e.g. {bad.examples[0]}",
            stacklevel=2,
        )
    if not keep.any():
        raise DatasetError(f"{source}: no usable rows (found {rows} data rows)")
    return Fer2013Table(
        pixels=pixels[:filled].reshape(-1, FER2013_SIDE, FER2013_SIDE),
        emotion=np.asarray(emo, dtype=np.int64)[keep],
        usage=np.asarray(use, dtype=np.int64)[keep] if iu is not None else None,
        lines=np.asarray(nums, dtype=np.int64)[keep],
        index=np.asarray(index, dtype=np.int64)[keep],
        rows=rows,
        skipped=bad.skipped,
        columns=columns,
        source=source,
    )


def find_fer2013_csv(folder: Path) -> Path | None:
    """The FER2013 CSV (or ``.gz``/tar archive) in ``folder``, by the names of :data:`CSV_NAMES`.

    Example:
        >>> find_fer2013_csv(Path("~/datasets/fer2013").expanduser())  # doctest: +SKIP
        PosixPath('/home/me/datasets/fer2013/fer2013.csv')
    """
    for name in CSV_NAMES:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _image_folders(root: Path) -> list[Path]:
    return [d for d in (root / "train", root / "test", root / "val") if d.is_dir()]


@register_format(
    "fer2013",
    aliases=("fer-2013",),
    description="FER2013: fer2013.csv(.gz), Kaggle fer2013.tar.gz / train.csv / image folders",
)
def load_fer2013(root: Path, settings: LoadSettings) -> FERData:
    """Load FER2013 from a CSV/``.gz``/tar file or a folder (see the module docstring for the layouts).

    The images are FER2013's own 48x48 face crops, so the default ``face_crop`` is ``"none"``.

    Raises:
        DatasetError: nothing FER2013-like at ``root`` (the message lists what was found), Kaggle's
            unlabeled ``test.csv`` given alone, a malformed row (file and line number) or a corrupt
            image, unless ``skip_corrupt``.

    Example:
        >>> data = load_dataset("fer2013", "fer2013.csv", image_size=64)  # doctest: +SKIP
    """
    root = Path(root).expanduser()
    settings = settings.with_default_crop("none", "fer2013")
    if not root.exists():
        raise DatasetError(
            f"{root}: not found (expected fer2013.csv, fer2013.csv.gz, fer2013.tar.gz, icml_face_data.csv, "
            "train.csv, or a folder holding one of them or Kaggle's train/ and test/ image folders)"
        )
    notes: dict[str, str] = {}
    if root.is_file():
        return _load_csv(root, root, settings, notes)
    csv = find_fer2013_csv(root)
    if csv is not None:
        if csv.name.startswith("train.csv") and (root / "test.csv").is_file():
            notes["ignored"] = "test.csv (Kaggle's test file has no labels)"
        return _load_csv(root, csv, settings, notes)
    if _image_folders(root):
        return _load_images(root, settings)
    if (root / "test.csv").is_file():
        raise DatasetError(
            f"{root}: only test.csv found: Kaggle's test.csv has no labels, so it cannot be used for "
            "training or evaluation; add train.csv or use fer2013.csv / fer2013.tar.gz"
        )
    raise DatasetError(
        f"{root}: no FER2013 data found (expected one of {', '.join(CSV_NAMES)}, or train/<class>/ and "
        f"test/<class>/ image folders); found: {describe_folder(root)}"
    )


def _layout(table: Fer2013Table, path: Path) -> str:
    kind = "tar archive member" if _is_tar(path) else "CSV"
    return f"{kind} {Path(table.source).name} with columns {','.join(table.columns)}"


def _load_csv(root: Path, path: Path, settings: LoadSettings, notes: dict[str, str]) -> FERData:
    space_index = np.array(
        [settings.label_space.index(name) for name in BASIC7.names], dtype=np.int64
    )  # FER2013 codes are the basic7 order; basic8 only appends contempt

    detector = settings.detector()  # before any thread starts

    def build() -> FERData:
        table = read_fer2013_table(path, skip_corrupt=settings.skip_corrupt)
        images, keep, hows = frame_images(table.pixels, settings, detector)
        if not keep.any():
            raise DatasetError(
                f"{table.source}: no face detected in any image (try detect_fallback='center')"
            )
        skipped = dict(table.skipped)
        if not keep.all():
            skipped[NO_FACE] = int((~keep).sum())
        has_usage = table.usage is not None
        provenance = {
            "format": "fer2013",
            "root": str(root),
            "file": table.source,
            "layout": _layout(table, path),
            "rows": table.rows,
            "skipped": skipped,
            "preprocessing": settings.key(detector),
            **detection_facts(hows, settings),
            "source_size": [FER2013_SIDE, FER2013_SIDE],
            "split": "official" if has_usage else "none (all train)",
            "split_rule": (
                "Usage: Training->train, PublicTest->val, PrivateTest->test"
                if has_usage
                else "no Usage column: every row is train"
            ),
            **notes,
        }
        return FERData(
            name="fer2013",
            images=torch.from_numpy(np.ascontiguousarray(images)[:, None]),
            labels=torch.from_numpy(space_index[table.emotion[keep]]),
            split=torch.from_numpy(
                table.usage[keep] if has_usage else np.zeros(int(keep.sum()), dtype=np.int64)
            ),
            label_space=settings.label_space,
            provenance=provenance,
        )

    data = cached_load(
        "fer2013",
        [path],
        {**settings.key(detector), "layout": "csv"},
        build,
        settings.cache_dir,
        settings.use_cache,
    )
    warn_skipped("fer2013", data.provenance.get("skipped", {}))
    return data


def _split_of(folder: str, filename: str) -> str:
    if folder == "train":
        return "train"
    if folder == "val":
        return "val"
    if filename.startswith("PublicTest"):
        return "val"
    return "test"


def _load_images(root: Path, settings: LoadSettings) -> FERData:
    samples: list[Sample] = []
    codes: dict[str, str] = {}
    unknown: list[str] = []
    for split_dir in _image_folders(root):
        for class_dir in sorted(d for d in split_dir.iterdir() if d.is_dir() and not d.name.startswith(".")):
            try:
                codes[class_dir.name] = canonical_expression(class_dir.name)
            except LabelError:
                unknown.append(f"{split_dir.name}/{class_dir.name}")
                continue
            for path in list_images(class_dir):
                samples.append(Sample(path, class_dir.name, split=_split_of(split_dir.name, path.name)))
    if unknown:
        raise DatasetError(
            f"{root}: unknown class folders {', '.join(unknown)} in the FER2013 image layout "
            f"(expected {', '.join(sorted(BASIC7.names))})"
        )
    if not samples:
        raise DatasetError(
            f"{root}: no images in train/<class>/ or test/<class>/ (expected class folders "
            f"{', '.join(sorted(BASIC7.names))} holding .jpg files); found: {describe_folder(root)}"
        )
    return build_from_samples(
        "fer2013",
        root,
        samples,
        codes,
        settings,
        format_name="fer2013-images",
        extra_provenance={
            "layout": "Kaggle image folders " + ", ".join(f"{d.name}/<class>/" for d in _image_folders(root)),
            "split_rule": "train/ -> train; test/: PublicTest_* -> val, PrivateTest_* (and others) -> test",
        },
    )
