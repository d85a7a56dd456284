"""JAFFE (Japanese Female Facial Expression): a flat folder of ``SS.EEn.NNN.tiff`` images.

Layout accepted::

    jaffe/                  # the folder given as root (or its only child folder holding the images,
        KA.AN1.39.tiff      #   e.g. the ``jaffedbase/`` of the release)
        KA.NE1.26.tif
        ...

``SS`` are the subject's initials (the subject), ``EE`` the expression (``AN`` angry, ``DI`` disgust,
``FE`` fear, ``HA`` happy, ``NE`` neutral, ``SA`` sad, ``SU`` surprise), ``n`` the take and ``NNN`` the
image number; the suffix is ``.tiff`` or ``.tif``, in any case. Files whose name does not match are
skipped and counted (``provenance["skipped"]``); a matching name with an unknown expression code is a
:class:`~fer_avalanche.errors.LabelError`. Some files are palette (``P``) images; they are converted
to grey. JAFFE has no official split: everything is ``train`` (use the subject splits of
:mod:`fer_avalanche.data.splits`).

The default ``face_crop`` is ``"auto"``: the 256x256 frames show the face (about 60% of the frame)
with hair, neck and background around it, while FER2013's faces are cropped tight by a detector; so
the face is detected with OpenCV's frontal Haar cascade when ``opencv-python-headless<5`` is installed
(the ``[detect]`` extra), and otherwise centre-cropped (a centred square of 75% of the side) with a
warning saying how to get the detector. ``"none"`` keeps the whole frame.

Example:
    >>> from fer_avalanche import load_dataset
    >>> data = load_dataset("jaffe", "~/datasets/jaffe")  # doctest: +SKIP
    >>> data.num_subjects  # doctest: +SKIP
    10
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from fer_avalanche.data.ferdata import FERData
from fer_avalanche.data.formats._common import (
    LoadSettings,
    Sample,
    build_from_samples,
    describe_folder,
    match_expression,
    require_dir,
)
from fer_avalanche.data.registry import register_format
from fer_avalanche.errors import DatasetError

__all__ = ["load_jaffe", "JAFFE_CODES", "JAFFE_NAME"]

#: JAFFE expression codes -> expression names.
JAFFE_CODES: dict[str, str] = {
    "AN": "angry",
    "DI": "disgust",
    "FE": "fear",
    "HA": "happy",
    "NE": "neutral",
    "SA": "sad",
    "SU": "surprise",
}

#: File-name rule: ``SS.EEn.NNN.tiff`` (subject initials, expression, take, image number).
JAFFE_NAME = re.compile(
    r"^(?P<subject>[A-Za-z]+)\.(?P<expr>[A-Za-z]{2})(?P<take>\d*)\.(?P<number>\d+)\.tiff?$", re.IGNORECASE
)
_MISMATCH = "name does not match SS.EEn.NNN.tiff"


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _matching(folder: Path) -> int:
    return sum(1 for p in _files(folder) if JAFFE_NAME.match(p.name))


@register_format("jaffe", description="JAFFE: flat folder of SS.EEn.NNN.tiff images (10 subjects)")
def load_jaffe(root: Path, settings: LoadSettings) -> FERData:
    """Load JAFFE from the flat folder ``root`` (see the module docstring for the layout).

    Raises:
        DatasetError: ``root`` is missing or a file, no file is named ``SS.EEn.NNN.tiff`` (the message
            lists what was found), or an image is corrupt (unless ``skip_corrupt``).
        LabelError: a file's expression code is not one of JAFFE's.
    """
    root = Path(root).expanduser()
    settings = settings.with_default_crop("auto", "jaffe")
    require_dir(root, "JAFFE's SS.EEn.NNN.tiff images")
    folder = root
    if _matching(root) == 0:
        children = [d for d in sorted(root.iterdir()) if d.is_dir() and not d.name.startswith(".")]
        holding = [d for d in children if _matching(d) > 0]
        if len(holding) != 1:
            raise DatasetError(
                f"{root}: no JAFFE images found (expected a flat folder of SS.EEn.NNN.tiff files such as "
                f"KA.AN1.39.tiff); found: {describe_folder(root)}"
            )
        folder = holding[0]
    skipped: Counter[str] = Counter()
    samples: list[Sample] = []
    for path in _files(folder):
        match = match_expression(JAFFE_NAME, path, JAFFE_CODES, "JAFFE")
        if match is None:
            skipped[_MISMATCH] += 1
            continue
        samples.append(Sample(path, match["expr"].upper(), subject=match["subject"].upper()))
    return build_from_samples(
        "jaffe",
        root,
        samples,
        JAFFE_CODES,
        settings,
        extra_provenance={
            "layout": f"flat folder {folder.name}/ of SS.EEn.NNN.tiff",
            "label_rule": "expression from EE in SS.EEn.NNN.tiff ("
            + ", ".join(f"{k} {v}" for k, v in JAFFE_CODES.items())
            + ")",
            "subject_rule": "SS (initials) in the file name",
        },
        skipped=skipped,
    )
