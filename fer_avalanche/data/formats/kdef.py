"""KDEF (Karolinska Directed Emotional Faces): ``KDEF/<AF01>/<AF01ANS>.JPG`` folders.

Layout accepted (``root`` is ``KDEF/`` or its parent, e.g. ``KDEF_and_AKDEF/``)::

    KDEF/AF01/AF01AFS.JPG  AF01ANHL.JPG  AF01HAFR.JPG ...
    KDEF/BM35/BM35SUS.JPG ...

A name is ``<session><sex><subject><expression><angle>.JPG`` (any case): session ``A``/``B``, sex
``F``/``M``, a two-digit subject number, expression (``AF`` fear, ``AN`` angry, ``DI`` disgust, ``HA``
happy, ``NE`` neutral, ``SA`` sad, ``SU`` surprise) and angle (``S`` straight, ``HL``/``HR`` half left
/ right, ``FL``/``FR`` full left / right profile). ``angles`` selects the angles kept (default
``("S",)``: frontal only; ``"all"`` keeps every angle); the others are counted in provenance. The
subject is sex + number (``F01``), so both sessions of one person share a subject; the per-session
counts are recorded in provenance. Files whose name does not match are skipped and counted; an
unknown expression code is a :class:`~fer_avalanche.errors.LabelError`. No official split: everything
is ``train``. The 562x762 portraits show head, neck and background, so the default ``face_crop`` is
``"auto"``: the face detected with OpenCV's frontal Haar cascade when it is installed (profiles are
rarely found and fall back to the centre crop, counted), else a centre crop with a warning.

Example:
    >>> from fer_avalanche import load_dataset
    >>> data = load_dataset("kdef", "~/datasets/KDEF_and_AKDEF", angles=("S", "HL", "HR"))  # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from fer_avalanche.data.ferdata import FERData
from fer_avalanche.data.formats._common import (
    LoadSettings,
    Sample,
    build_from_samples,
    describe_folder,
    list_images,
    match_expression,
    require_dir,
)
from fer_avalanche.data.registry import register_format
from fer_avalanche.errors import ConfigError, DatasetError

__all__ = ["load_kdef", "KDEF_CODES", "KDEF_ANGLES", "KDEF_NAME"]

#: KDEF expression codes -> expression names.
KDEF_CODES: dict[str, str] = {
    "AF": "fear",
    "AN": "angry",
    "DI": "disgust",
    "HA": "happy",
    "NE": "neutral",
    "SA": "sad",
    "SU": "surprise",
}
#: KDEF camera angles.
KDEF_ANGLES: tuple[str, ...] = ("S", "HL", "HR", "FL", "FR")
#: File-name rule ``<session A|B><sex F|M><NN><expression><angle>.jpg``.
KDEF_NAME = re.compile(
    r"^(?P<session>[AB])(?P<sex>[FM])(?P<number>\d{2})(?P<expr>[A-Z]{2})(?P<angle>S|HL|HR|FL|FR)\.jpe?g$",
    re.IGNORECASE,
)
_FOLDER = re.compile(r"^[AB][FM]\d{2}$", re.IGNORECASE)
_MISMATCH = "name does not match <A|B><F|M>NN<expression><angle>.JPG"


def _person_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and _FOLDER.match(p.name))


def _kdef_root(root: Path) -> Path:
    if _person_dirs(root):
        return root
    for child in sorted(root.iterdir()):
        if child.is_dir() and child.name.lower() == "kdef" and _person_dirs(child):
            return child
    raise DatasetError(
        f"{root}: not a KDEF layout; expected KDEF/<session><sex><NN>/ folders such as KDEF/AF01/AF01ANS.JPG "
        f"(root may be KDEF/ or its parent); found: {describe_folder(root)}"
    )


def _check_angles(angles: Sequence[str] | str | None) -> tuple[str, ...]:
    if angles is None or (isinstance(angles, str) and angles.lower() == "all"):
        return KDEF_ANGLES
    if isinstance(angles, str):
        angles = (angles,)
    out = tuple(str(a).strip().upper() for a in angles)
    bad = [a for a in out if a not in KDEF_ANGLES]
    if bad or not out:
        raise ConfigError(
            f"angles must be a non-empty subset of {', '.join(KDEF_ANGLES)} or 'all', got {angles!r}"
        )
    return out


@register_format("kdef", description="KDEF: KDEF/<AF01>/<AF01ANS>.JPG (angles selectable)")
def load_kdef(
    root: Path,
    settings: LoadSettings,
    *,
    angles: Sequence[str] | str | None = ("S",),
) -> FERData:
    """Load KDEF from ``root`` (see the module docstring for the layout).

    Args:
        angles: camera angles kept, a subset of ``S HL HR FL FR`` or ``"all"`` (default frontal only).

    Raises:
        DatasetError: ``root`` missing, a file, or not a KDEF layout (the message lists what was
            found), or a corrupt image (unless ``skip_corrupt``).
        LabelError: a file whose expression code is not one of KDEF's.
        ConfigError: an unknown angle.
    """
    root = Path(root).expanduser()
    settings = settings.with_default_crop("auto", "kdef")
    keep = _check_angles(angles)
    require_dir(root, "KDEF/<session><sex><NN>/ folders of <A|B><F|M>NN<expression><angle>.JPG images")
    folder = _kdef_root(root)
    samples: list[Sample] = []
    skipped: Counter[str] = Counter()
    other_angles = 0
    sessions: Counter[str] = Counter()
    for person in _person_dirs(folder):
        for path in list_images(person, recursive=False):
            match = match_expression(KDEF_NAME, path, KDEF_CODES, "KDEF")
            if match is None:
                skipped[_MISMATCH] += 1
                continue
            code = match["expr"].upper()
            if match["angle"].upper() not in keep:
                other_angles += 1
                continue
            sessions[match["session"].upper()] += 1
            samples.append(Sample(path, code, subject=(match["sex"] + match["number"]).upper()))
    if not samples:
        raise DatasetError(
            f"{folder}: no KDEF image with angle(s) {', '.join(keep)} found; found: {describe_folder(folder)}"
        )
    return build_from_samples(
        "kdef",
        root,
        samples,
        KDEF_CODES,
        settings,
        extra_provenance={
            "layout": f"{folder.name}/<session><sex><NN>/*.JPG",
            "label_rule": "expression code in the file name ("
            + ", ".join(f"{k} {v}" for k, v in KDEF_CODES.items())
            + ")",
            "subject_rule": "sex + number (F01); sessions A and B share a subject",
            "angles": list(keep),
            "excluded_other_angles": other_angles,
            "sessions": dict(sorted(sessions.items())),
        },
        skipped=skipped,
    )
