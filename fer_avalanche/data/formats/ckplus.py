"""CK+ (Extended Cohn-Kanade): the official release or a CK+48 copy, detected automatically.

Layouts accepted (``root`` may be the folder shown, or its parent)::

    # (a) official release: root holds both folders (or root is cohn-kanade-images/ beside Emotion/)
    cohn-kanade-images/S005/001/S005_001_00000001.png ... S005_001_00000011.png
    Emotion/S005/001/S005_001_00000011_emotion.txt      # one float, e.g. "3.0000000e+00"

    # (b) CK+48 copy (root is the class-folder parent, or holds CK+48/)
    CK+48/anger/S010_004_00000017.png
    CK+48/happy/...        # classes: anger contempt disgust fear happy|happiness sadness surprise [neutral]

Official codes: 0 neutral, 1 anger, 2 contempt, 3 disgust, 4 fear, 5 happy, 6 sadness, 7 surprise.
Only labelled sequences are used (those with an ``*_emotion.txt``); a sequence runs from neutral
(first frame) to peak (last frame), so the last ``peak_frames`` frames (default 3) carry the label and,
with ``first_frame_neutral=True``, the first frame is added as ``neutral``. Contempt is dropped (and
counted) in ``basic7`` and kept in ``basic8``. The subject is ``Sxxx``; the group (frames every split
keeps together) is the sequence ``Sxxx/yyy`` (CK+48: the ``Sxxx_yyy`` prefix), the onset frame added
by ``first_frame_neutral`` included. CK+ has no official split: everything is ``train``; results are
normally reported with subject k-fold (:func:`fer_avalanche.data.splits.subject_kfold`).

Default ``face_crop``: the official 640x490 frames show the head at about 40% of the width with the
studio around it, so faces are detected (``"auto"``: OpenCV's Haar cascade when installed, else a
centre crop with a warning); CK+48 images are already 48x48 face crops, so ``"none"``.

Example:
    >>> from fer_avalanche import load_dataset
    >>> data = load_dataset("ckplus", "~/datasets/CK+", peak_frames=1)  # doctest: +SKIP
    >>> data = load_dataset("ck+", "~/datasets/CK+48")  # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

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

__all__ = ["load_ckplus", "CKPLUS_CODES", "CK48_FOLDERS"]

#: Official CK+ emotion codes -> expression names.
CKPLUS_CODES: dict[int, str] = {
    0: "neutral",
    1: "angry",
    2: "contempt",
    3: "disgust",
    4: "fear",
    5: "happy",
    6: "sad",
    7: "surprise",
}

#: CK+48 class-folder names (lower case) -> expression names.
CK48_FOLDERS: dict[str, str] = {
    "anger": "angry",
    "contempt": "contempt",
    "disgust": "disgust",
    "fear": "fear",
    "happy": "happy",
    "happiness": "happy",
    "sadness": "sad",
    "surprise": "surprise",
    "neutral": "neutral",
}

_FRAME_NAME = re.compile(r"^(?P<subject>S\d+)_(?P<sequence>\d+)_(?P<frame>\d+)", re.IGNORECASE)
_LAYOUTS = (
    "(a) cohn-kanade-images/Sxxx/yyy/*.png + Emotion/Sxxx/yyy/*_emotion.txt, or "
    "(b) CK+48 class folders <class>/Sxxx_yyy_zzzzzzzz.png with classes " + " ".join(CK48_FOLDERS)
)


def _child(folder: Path, name: str) -> Path | None:
    """The sub-folder of ``folder`` called ``name`` (case-insensitive), if any."""
    for entry in sorted(folder.iterdir()):
        if entry.is_dir() and entry.name.lower() == name.lower():
            return entry
    return None


def _dirs(folder: Path) -> list[Path]:
    return sorted(
        (p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name.lower(),
    )


def _find_official(root: Path) -> tuple[Path, Path] | None:
    if root.name.lower() == "cohn-kanade-images":
        emotion = _child(root.parent, "Emotion")
        if emotion is not None:
            return root, emotion
    for folder in (root, *_dirs(root)):
        images, emotion = _child(folder, "cohn-kanade-images"), _child(folder, "Emotion")
        if images is not None and emotion is not None:
            return images, emotion
    return None


def _find_ck48(root: Path) -> Path | None:
    for folder in (root, _child(root, "CK+48")):
        if folder is not None and any(d.name.lower() in CK48_FOLDERS for d in _dirs(folder)):
            return folder
    return None


def _read_emotion(path: Path) -> int:
    text = path.read_text(errors="replace").strip()
    try:
        value = float(text)
    except ValueError:
        raise DatasetError(
            f"{path}: malformed CK+ emotion file: expected one number such as 3.0000000e+00, "
            f"got {text[:40]!r}"
        ) from None
    if value != int(value) or int(value) not in CKPLUS_CODES:
        raise LabelError(f"{path}: unknown CK+ emotion code {text!r} (expected 0..7)")
    return int(value)


def _official_samples(
    images: Path, emotion: Path, peak_frames: int, first_frame_neutral: bool, skip_corrupt: bool
) -> tuple[list[Sample], Counter[str], dict[str, int]]:
    samples: list[Sample] = []
    skipped: Counter[str] = Counter()
    labelled = 0
    label_files = sorted(emotion.glob("*/*/*_emotion.txt"))
    if not label_files:
        raise DatasetError(
            f"{emotion}: no Sxxx/yyy/*_emotion.txt label files found (expected {_LAYOUTS}); "
            f"found: {describe_folder(emotion)}"
        )
    for label_file in label_files:
        if label_file.name.startswith("."):
            continue
        subject, sequence = label_file.parent.parent.name, label_file.parent.name
        code = _read_emotion(label_file)
        siblings = [p for p in label_file.parent.glob("*_emotion.txt") if not p.name.startswith(".")]
        if len(siblings) > 1:
            raise DatasetError(
                f"{label_file.parent}: {len(siblings)} emotion files in one sequence (expected one)"
            )
        frames_dir = images / subject / sequence
        frames = list_images(frames_dir, recursive=False) if frames_dir.is_dir() else []
        if not frames:
            if skip_corrupt:
                skipped["labelled sequence without frames"] += 1
                continue
            raise DatasetError(
                f"{label_file}: its sequence folder {frames_dir} is missing or holds no images "
                "(pass skip_corrupt=True to skip such sequences)"
            )
        labelled += 1
        group = f"{subject.upper()}/{sequence}"
        peak_pool = frames[1:] if first_frame_neutral and len(frames) > 1 else frames
        for frame in peak_pool[-peak_frames:]:
            samples.append(Sample(frame, code, subject=subject.upper(), group=group))
        if first_frame_neutral:
            samples.append(Sample(frames[0], 0, subject=subject.upper(), group=group))
    sequences = sum(1 for s in _dirs(images) for _ in _dirs(s))
    return samples, skipped, {"labelled_sequences": labelled, "sequences_found": sequences}


def _ck48_samples(folder: Path) -> tuple[list[Sample], Counter[str], dict[str, str]]:
    samples: list[Sample] = []
    skipped: Counter[str] = Counter()
    codes: dict[str, str] = {}
    for class_dir in _dirs(folder):
        key = class_dir.name.lower()
        if key not in CK48_FOLDERS:
            raise LabelError(
                f"{class_dir}: unknown CK+48 class folder {class_dir.name!r} "
                f"(expected {', '.join(CK48_FOLDERS)})"
            )
        codes[key] = CK48_FOLDERS[key]
        for path in list_images(class_dir, recursive=False):
            match = _FRAME_NAME.match(path.name)
            if match is None:
                skipped["name does not match Sxxx_yyy_zzzzzzzz.png"] += 1
                continue
            subject = match["subject"].upper()
            samples.append(Sample(path, key, subject=subject, group=f"{subject}/{match['sequence']}"))
    return samples, skipped, codes


@register_format("ckplus", aliases=("ck+", "ck+48"), description="CK+: official release or CK+48 copy")
def load_ckplus(
    root: Path,
    settings: LoadSettings,
    *,
    peak_frames: int = 3,
    first_frame_neutral: bool = False,
) -> FERData:
    """Load CK+ (official release or CK+48 copy) from ``root``.

    Args:
        peak_frames: official release only: how many last frames of each labelled sequence carry its
            label (>= 1).
        first_frame_neutral: official release only: also add each labelled sequence's first frame as
            ``neutral``.

    Raises:
        DatasetError: no known layout under ``root`` (the message lists both and what was found), a
            malformed emotion file (named), a labelled sequence without frames or a corrupt image
            (unless ``skip_corrupt``).
        LabelError: an emotion code outside 0..7 or an unknown CK+48 class folder.
    """
    root = Path(root).expanduser()
    if not is_int(peak_frames) or peak_frames < 1:
        raise ConfigError(f"peak_frames must be an integer >= 1, got {peak_frames!r}")
    require_dir(root, f"CK+ in one of the layouts {_LAYOUTS}")
    official = _find_official(root)
    if official is not None:
        settings = settings.with_default_crop("auto", "ckplus")
        images, emotion = official
        samples, skipped, counts = _official_samples(
            images, emotion, peak_frames, bool(first_frame_neutral), settings.skip_corrupt
        )
        return build_from_samples(
            "ckplus",
            root,
            samples,
            {code: name for code, name in CKPLUS_CODES.items()},
            settings,
            extra_provenance={
                "layout": "official (cohn-kanade-images + Emotion)",
                "label_rule": f"last {peak_frames} frame(s) of each labelled sequence carry its Emotion code"
                + ("; first frame = neutral" if first_frame_neutral else ""),
                "subject_rule": "Sxxx folder",
                "group_rule": "sequence Sxxx/yyy",
                **counts,
            },
            skipped=skipped,
        )
    folder = _find_ck48(root)
    if folder is None:
        raise DatasetError(f"{root}: not a CK+ layout; expected {_LAYOUTS}; found: {describe_folder(root)}")
    settings = settings.with_default_crop("none", "ckplus")
    samples, skipped, codes = _ck48_samples(folder)
    return build_from_samples(
        "ckplus",
        root,
        samples,
        codes,
        settings,
        extra_provenance={
            "layout": f"CK+48 class folders ({folder.name}/)",
            "label_rule": "class folder name",
            "subject_rule": "Sxxx prefix of the file name",
            "group_rule": "sequence Sxxx_yyy prefix of the file name",
        },
        skipped=skipped,
    )
