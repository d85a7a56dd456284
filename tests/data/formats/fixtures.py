"""Helpers that write small datasets in their real on-disk formats into a test's ``tmp_path``.

Generic on purpose (any loader test may import them): images written with Pillow, CSV files,
corrupt and truncated image files, and FER2013-style pixel rows. Nothing here is committed data.

Example:
    >>> from fixtures import write_image
    >>> write_image(tmp_path / "happy" / "a.png", size=(64, 64))  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import gzip
import io
import tarfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = [
    "image_array",
    "write_image",
    "write_corrupt_image",
    "write_truncated_image",
    "write_csv",
    "pixels_string",
    "fer2013_rows",
    "write_fer2013_csv",
    "write_tar",
    "grey_of",
    "resized",
    "crop_of",
    "frame_image",
    "write_ckplus_official",
    "write_ck48",
    "write_mug",
    "CK_CODES",
    "CK48_CLASSES",
    "MUG_EMOTIONS",
    "read_fer2013_faces",
    "face_on_canvas",
    "FORMAT_FIXTURES",
    "write_format_fixture",
]


def image_array(size: tuple[int, int] = (64, 64), mode: str = "L", seed: int = 0) -> np.ndarray:
    """Deterministic random pixels for an image of ``size`` = (width, height) in ``mode``."""
    w, h = size
    rng = np.random.default_rng(seed)
    channels = {"L": 1, "P": 1, "RGB": 3, "RGBA": 4}.get(mode, 1)
    shape = (h, w) if channels == 1 else (h, w, channels)
    return rng.integers(0, 256, size=shape, dtype=np.uint8)


def write_image(
    path: str | Path, size: tuple[int, int] = (64, 64), mode: str = "L", seed: int = 0, fmt: str | None = None
) -> Path:
    """Write a random image of ``size`` = (width, height) in ``mode`` (``L``, ``RGB``, ``RGBA``, ``P``,
    ``I;16``) to ``path`` (format from the suffix unless ``fmt``); parent folders are created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode == "I;16":
        arr = (image_array(size, "L", seed).astype(np.uint16) * 257).astype(np.uint16)
        image = Image.fromarray(arr)  # uint16 -> mode I;16
    elif mode == "P":
        image = Image.fromarray(image_array(size, "L", seed), mode="L").convert("P")
    else:
        image = Image.fromarray(image_array(size, mode, seed), mode=mode)
    image.save(path, format=fmt)
    return path


def write_corrupt_image(path: str | Path) -> Path:
    """Write bytes that are no image at all under an image file name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not an image\x00\x01\x02" * 8)
    return path


def write_truncated_image(path: str | Path, size: tuple[int, int] = (64, 64), keep: float = 0.4) -> Path:
    """Write a valid image, then cut the file to ``keep`` of its bytes (a download that stopped)."""
    path = write_image(path, size=size)
    data = path.read_bytes()
    path.write_bytes(data[: max(16, int(len(data) * keep))])
    return path


def write_csv(path: str | Path, header: Sequence[str] | None, rows: Iterable[Sequence[object]]) -> Path:
    """Write a CSV (``header`` may be None for headerless files such as FER+'s ``label.csv``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        if header is not None:
            writer.writerow(header)
        writer.writerows(rows)
    return path


def pixels_string(pixels: np.ndarray) -> str:
    """FER2013's pixel field: the values space-separated, row-major."""
    return " ".join(str(int(v)) for v in np.asarray(pixels).ravel())


def fer2013_rows(
    per_usage: dict[str, Sequence[int]] | None = None, side: int = 48, seed: int = 0
) -> list[tuple[int, np.ndarray, str]]:
    """Rows ``(emotion, pixels [side, side] uint8, usage)``.

    ``per_usage`` maps a Usage to the emotions of its rows, in order; by default 14 Training rows
    (each emotion twice), 7 PublicTest and 7 PrivateTest rows.
    """
    if per_usage is None:
        per_usage = {
            "Training": list(range(7)) * 2,
            "PublicTest": list(range(7)),
            "PrivateTest": list(range(7)),
        }
    rng = np.random.default_rng(seed)
    return [
        (emotion, rng.integers(0, 256, size=(side, side), dtype=np.uint8), usage)
        for usage, emotions in per_usage.items()
        for emotion in emotions
    ]


def write_fer2013_csv(
    path: str | Path,
    rows: Sequence[tuple[int, np.ndarray, str]],
    columns: Sequence[str] = ("emotion", "pixels", "Usage"),
    sep: str = ",",
    newline: str = "\n",
    compress: bool | None = None,
) -> Path:
    """Write FER2013-style rows with the given column order (``emotion``, ``pixels``, ``Usage``).

    ``sep=", "`` writes the icml_face_data.csv variant; ``compress`` (default: suffix ``.gz``) gzips.
    Raw strings may be passed as pixels to write malformed rows.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [sep.join(columns)]
    for emotion, pixels, usage in rows:
        fields = {
            "emotion": str(emotion),
            "pixels": pixels if isinstance(pixels, str) else pixels_string(pixels),
            "usage": usage,
        }
        lines.append(sep.join(fields[c.strip().lower()] for c in columns))
    data = (newline.join(lines) + newline).encode()
    if compress or (compress is None and path.suffix == ".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def write_tar(path: str | Path, members: dict[str, bytes]) -> Path:
    """Write a tar archive (``.tar.gz`` compressed by suffix) holding ``{member name: content}``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "w:gz" if path.name.endswith((".tar.gz", ".tgz")) else "w"
    with tarfile.open(path, mode) as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return path


def grey_of(path: str | Path) -> np.ndarray:
    """The file decoded the way the loaders decode it (Pillow, converted to ``L``)."""
    with Image.open(path) as image:
        return np.asarray(image.convert("L"))


def resized(grey: np.ndarray, size: int = 48) -> np.ndarray:
    """``grey`` resized to ``size x size`` the way the loaders resize (Pillow bilinear)."""
    if grey.shape == (size, size):
        return grey
    return np.asarray(
        Image.fromarray(np.ascontiguousarray(grey)).resize((size, size), Image.Resampling.BILINEAR)
    )


def crop_of(path: str | Path, rows: tuple[int, int], cols: tuple[int, int], size: int = 48) -> np.ndarray:
    """The image at ``path`` cut to ``[rows[0]:rows[1], cols[0]:cols[1]]`` and resized: what a loader's
    crop must give (tests state the offsets by hand, so swapped or shifted offsets fail)."""
    return resized(grey_of(path)[rows[0] : rows[1], cols[0] : cols[1]], size)


# ----------------------------------------------------------------- sequence datasets (groups)
#: CK+ emotion codes used by the sequence fixtures (no contempt, so basic7 keeps every sequence).
CK_CODES = (1, 3, 4, 5, 6, 7)
#: CK+48 class folders in the same order.
CK48_CLASSES = ("anger", "disgust", "fear", "happy", "sadness", "surprise")
MUG_EMOTIONS = ("anger", "happiness", "sadness", "surprise")


def frame_image(path: str | Path, value: int, size: tuple[int, int] = (32, 40), seed: int = 0) -> Path:
    """A grey image of ``size`` = (width, height) whose pixels are ``value`` +- 3, so a loaded frame can
    be told from the others by its mean (CK+ onset vs peak frames, MUG apex frames)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    w, h = size
    pixels = np.clip(value + rng.integers(-3, 4, (h, w)), 0, 255).astype(np.uint8)
    Image.fromarray(pixels, "L").save(path)
    return path


def write_ckplus_official(
    root: str | Path,
    subjects: int = 12,
    sequences: int = 3,
    frames: int = 5,
    size: tuple[int, int] = (32, 40),
) -> Path:
    """The official CK+ tree: ``cohn-kanade-images/Sxxx/yyy/Sxxx_yyy_zzzzzzzz.png`` + ``Emotion/...``.

    Frame ``f`` (1-based) of every sequence has pixel value ``40 * f`` (onset dark, peak bright); the
    emotion of sequence ``j`` of subject ``i`` is ``CK_CODES[(i + j) % 6]``.
    """
    root = Path(root)
    for i in range(subjects):
        subject = f"S{100 + i:03d}"
        for j in range(sequences):
            seq = f"{j + 1:03d}"
            for f in range(1, frames + 1):
                name = f"{subject}_{seq}_{f:08d}.png"
                frame_image(
                    root / "cohn-kanade-images" / subject / seq / name, 40 * f, size, seed=i * 50 + j * 7 + f
                )
            emotion = root / "Emotion" / subject / seq / f"{subject}_{seq}_{frames:08d}_emotion.txt"
            emotion.parent.mkdir(parents=True, exist_ok=True)
            emotion.write_text(f"   {float(CK_CODES[(i + j) % len(CK_CODES)]):.7e}\n")
    return root


def write_ck48(root: str | Path, subjects: int = 12, sequences: int = 3, frames: int = 3) -> Path:
    """A CK+48 copy: ``CK+48/<class>/Sxxx_yyy_zzzzzzzz.png`` (48x48), ``frames`` last frames per sequence."""
    root = Path(root)
    for i in range(subjects):
        for j in range(sequences):
            folder = CK48_CLASSES[(i + j) % len(CK48_CLASSES)]
            for f in range(frames):
                name = f"S{100 + i:03d}_{j + 1:03d}_{f + 10:08d}.png"
                write_image(root / "CK+48" / folder / name, size=(48, 48), seed=i * 50 + j * 7 + f)
    return root


def write_mug(
    root: str | Path,
    subjects: int = 10,
    takes: int = 2,
    frames: int | Sequence[int] = 5,
    size: tuple[int, int] = (32, 40),
) -> Path:
    """A MUG tree ``subjects3/<NNN>/<emotion>/takeNNN/img_NNNN.jpg`` of 4 emotions.

    ``frames`` is the length of every take, or a cycle of lengths (takes shorter than ``apex_frames``
    give smaller groups). Frame ``k`` of a take has pixel value ``20 + 30 * k``.
    """
    root = Path(root)
    lengths = [frames] if isinstance(frames, int) else list(frames)
    n = 0
    for s in range(subjects):
        for e, emotion in enumerate(MUG_EMOTIONS):
            for t in range(takes):
                length = lengths[n % len(lengths)]
                n += 1
                for k in range(length):
                    path = root / "subjects3" / f"{s + 1:03d}" / emotion / f"take{t:03d}" / f"img_{k:04d}.jpg"
                    frame_image(path, 20 + 30 * k, size, seed=s * 100 + e * 10 + t + k)
    return root


# ------------------------------------------------------------------ real-looking faces (detection)
def read_fer2013_faces(path: str | Path, rows: Sequence[int]) -> dict[int, np.ndarray]:
    """The 48x48 faces of the given 0-based data rows of a (gzipped) FER2013 CSV, read with gzip + csv."""
    wanted, faces = set(rows), {}
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", newline="") as fh:
        reader = csv.reader(fh)
        header = [h.strip().lower() for h in next(reader)]
        column = header.index("pixels")
        for i, row in enumerate(reader):
            if i in wanted:
                faces[i] = np.array(row[column].split(), dtype=np.uint8).reshape(48, 48)
            if len(faces) == len(wanted):
                break
    return faces


def face_on_canvas(
    face: np.ndarray, x: int, y: int, side: int, size: tuple[int, int] = (320, 240), background: int = 110
) -> np.ndarray:
    """``face`` resized to ``side``, pasted at ``(x, y)`` on a flat canvas of ``size`` = (width, height)."""
    w, h = size
    canvas = np.full((h, w), background, dtype=np.uint8)
    canvas[y : y + side, x : x + side] = resized(face, side)
    return canvas


# ------------------------------------------------------------- one tiny fixture per format
ImageWriter = Callable[[Path, int], Path]


def _default_image(path: Path, i: int) -> Path:
    return write_image(path, size=(40, 32), mode="L", seed=i)


def _fx_fer2013(root: Path, image: ImageWriter) -> Path:
    image(root / "train" / "happy" / "Training_00001.jpg", 0)
    image(root / "train" / "sad" / "Training_00002.jpg", 1)
    image(root / "test" / "angry" / "PublicTest_00001.jpg", 2)
    image(root / "test" / "fear" / "PrivateTest_00001.jpg", 3)
    return root


def _fx_ferplus(root: Path, image: ImageWriter) -> Path:
    votes = {"FER2013Train": [0, 9, 0, 0, 0, 0, 0, 0, 1, 0], "FER2013Test": [0, 0, 0, 8, 0, 0, 0, 0, 2, 0]}
    for i, (folder, vote) in enumerate(votes.items()):
        image(root / folder / f"fer{i:07d}.png", i)
        write_csv(root / folder / "label.csv", None, [[f"fer{i:07d}.png", "(0, 0, 48, 48)", *vote]])
    return root


def _fx_jaffe(root: Path, image: ImageWriter) -> Path:
    for i, name in enumerate(["KA.HA1.29.tiff", "KA.SA1.33.tiff", "KL.AN1.167.tiff"]):
        image(root / name, i)
    return root


def _fx_ckplus(root: Path, image: ImageWriter) -> Path:
    for i, (subject, seq, code) in enumerate([("S005", "001", 3), ("S010", "002", 5)]):
        for f in range(1, 4):
            image(root / "cohn-kanade-images" / subject / seq / f"{subject}_{seq}_{f:08d}.png", 3 * i + f)
        label = root / "Emotion" / subject / seq / f"{subject}_{seq}_{3:08d}_emotion.txt"
        label.parent.mkdir(parents=True, exist_ok=True)
        label.write_text(f"   {float(code):.7e}\n")
    return root


def _fx_ck48(root: Path, image: ImageWriter) -> Path:
    for i, (folder, name) in enumerate(
        [
            ("anger", "S010_004_00000017.png"),
            ("anger", "S010_004_00000018.png"),
            ("happy", "S011_001_00000009.png"),
        ]
    ):
        image(root / "CK+48" / folder / name, i)
    return root


def _fx_tfeid(root: Path, image: ImageWriter) -> Path:
    for i, folder in enumerate(["anger", "happiness", "Surprise"]):
        image(root / folder / f"f{i:02d}_{folder.lower()}.jpg", i)
    return root


def _fx_mug(root: Path, image: ImageWriter) -> Path:
    for i in range(3):
        image(root / "subjects3" / "001" / "anger" / "take000" / f"img_{i:04d}.jpg", i)
    image(root / "subjects3" / "002" / "happiness" / "take000" / "img_0000.jpg", 3)
    return root


def _fx_rafdb(root: Path, image: ImageWriter) -> Path:
    labels = {"train_00001.jpg": 4, "train_00002.jpg": 5, "test_0001.jpg": 1}
    (root / "EmoLabel").mkdir(parents=True, exist_ok=True)
    (root / "EmoLabel" / "list_patition_label.txt").write_text(
        "".join(f"{n} {c}\n" for n, c in labels.items())
    )
    for i, name in enumerate(labels):
        image(root / "Image" / "aligned" / f"{Path(name).stem}_aligned.jpg", i)
    return root


def _fx_affectnet(root: Path, image: ImageWriter) -> Path:
    for i, (split, code) in enumerate([("train", 1), ("train", 2), ("val", 6)]):
        image(root / split / str(code) / f"{i}.jpg", i)
    return root


def _fx_kdef(root: Path, image: ImageWriter) -> Path:
    for i, name in enumerate(["AF01/AF01HAS.JPG", "AF01/AF01SAS.JPG", "AM05/AM05ANS.JPG"]):
        image(root / "KDEF" / name, i)
    return root


def _fx_folder(root: Path, image: ImageWriter) -> Path:
    for i, (split, cls) in enumerate([("train", "happy"), ("train", "sad"), ("test", "angry")]):
        image(root / split / cls / f"S{i}_01_{i}.png", i)
    return root


def _fx_csv(root: Path, image: ImageWriter) -> Path:
    rows = []
    for i, cls in enumerate(["happy", "sad", "angry"]):
        image(root / "images" / f"{i}.png", i)
        rows.append([f"images/{i}.png", cls, f"S{i}", "test" if i == 2 else "train"])
    return write_csv(root / "labels.csv", ["path", "label", "subject", "split"], rows)


#: ``format -> (loader name, writer(root, image) -> the root to load)``: one tiny valid dataset per
#: on-disk format (CK+ twice: the official tree and CK+48), images written by ``image(path, index)``.
FORMAT_FIXTURES: dict[str, tuple[str, Callable[[Path, ImageWriter], Path]]] = {
    "fer2013": ("fer2013", _fx_fer2013),
    "ferplus": ("ferplus", _fx_ferplus),
    "jaffe": ("jaffe", _fx_jaffe),
    "ckplus": ("ckplus", _fx_ckplus),
    "ck48": ("ckplus", _fx_ck48),
    "tfeid": ("tfeid", _fx_tfeid),
    "mug": ("mug", _fx_mug),
    "rafdb": ("rafdb", _fx_rafdb),
    "affectnet": ("affectnet", _fx_affectnet),
    "kdef": ("kdef", _fx_kdef),
    "folder": ("folder", _fx_folder),
    "csv": ("csv", _fx_csv),
}


def write_format_fixture(key: str, root: str | Path, image: ImageWriter | None = None) -> tuple[str, Path]:
    """Write the tiny dataset of ``FORMAT_FIXTURES[key]`` under ``root``; ``(loader name, root to load)``."""
    name, writer = FORMAT_FIXTURES[key]
    return name, writer(Path(root), image or _default_image)
