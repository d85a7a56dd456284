"""MUG Facial Expression Database: ``subjects3/<subject>/<emotion>/<take>/img_NNNN.jpg`` sequences.

Layout accepted (``root`` is the folder holding ``subjects3/`` or ``subjects3/`` itself)::

    subjects3/001/anger/take000/img_0000.jpg ... img_0040.jpg
    subjects3/001/happiness/take001/...
    subjects3/002/surprise/img_0000.jpg ...     # a missing take level is tolerated (one take)

Emotion folders: ``anger disgust fear happiness neutral sadness surprise`` (any case; another name is a
:class:`~fer_avalanche.errors.LabelError` naming the folder). The subject is the ``<subject>`` folder
name (``001``).

Frame selection (``apex_frames``, default 3): each take is a sequence neutral -> apex -> neutral, so
the apex is taken to be the middle of the take's frames sorted by name (index ``(n - 1) // 2``); the
``apex_frames`` frames centred on it are kept (all frames when the take is shorter; ``None`` keeps
every frame). Neutral takes follow the same rule. MUG has no official split: everything is ``train``
(use the subject splits). The group (frames every split keeps together) is the take
``<subject>/<emotion>/<take>``. Frames are 896x896 with the head in the middle and the studio around
it, so the default ``face_crop`` is ``"auto"``: faces detected with OpenCV's Haar cascade when it is
installed, else a centre crop with a warning.

Example:
    >>> from fer_avalanche import load_dataset
    >>> data = load_dataset("mug", "~/datasets/MUG", apex_frames=1)  # doctest: +SKIP
"""

from __future__ import annotations

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

__all__ = ["load_mug", "MUG_EMOTIONS", "apex_window"]

#: MUG emotion-folder names -> expression names.
MUG_EMOTIONS: dict[str, str] = {
    "anger": "angry",
    "disgust": "disgust",
    "fear": "fear",
    "happiness": "happy",
    "neutral": "neutral",
    "sadness": "sad",
    "surprise": "surprise",
}
_LAYOUT = "subjects3/<subject>/<emotion>/<take>/img_NNNN.jpg with emotion folders " + " ".join(MUG_EMOTIONS)


def _dirs(folder: Path) -> list[Path]:
    return sorted(
        (p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name.lower(),
    )


def apex_window(n: int, k: int | None) -> slice:
    """Indices of the ``k`` frames centred on the apex (the middle frame, ``(n - 1) // 2``) of ``n``.

    Example:
        >>> apex_window(10, 3), apex_window(2, 3)
        (slice(3, 6, None), slice(0, 2, None))
    """
    if k is None or k >= n:
        return slice(0, n)
    middle = (n - 1) // 2
    start = max(0, min(n - k, middle - (k - 1) // 2))
    return slice(start, start + k)


def _is_subject_dir(folder: Path) -> bool:
    return any(d.name.lower() in MUG_EMOTIONS for d in _dirs(folder))


def _subjects_root(root: Path) -> Path:
    for child in _dirs(root):
        if child.name.lower() == "subjects3":
            return child
    if any(_is_subject_dir(d) for d in _dirs(root)):
        return root
    raise DatasetError(f"{root}: not a MUG layout; expected {_LAYOUT}; found: {describe_folder(root)}")


@register_format("mug", description="MUG: subjects3/<subject>/<emotion>/<take>/img_NNNN.jpg sequences")
def load_mug(
    root: Path,
    settings: LoadSettings,
    *,
    apex_frames: int | None = 3,
) -> FERData:
    """Load MUG from ``root`` (see the module docstring for the layout and the apex rule).

    Args:
        apex_frames: frames kept per take, centred on the middle (apex) frame; ``None`` keeps all.

    Raises:
        DatasetError: ``root`` missing, a file, or not a MUG layout (the message lists what was found),
            or a corrupt image (unless ``skip_corrupt``).
        LabelError: an emotion folder that is not one of MUG's.
    """
    root = Path(root).expanduser()
    settings = settings.with_default_crop("auto", "mug")
    if apex_frames is not None and (not is_int(apex_frames) or apex_frames < 1):
        raise ConfigError(f"apex_frames must be an integer >= 1 or None (all frames), got {apex_frames!r}")
    require_dir(root, f"MUG ({_LAYOUT})")
    subjects = _subjects_root(root)
    samples: list[Sample] = []
    takes = 0
    for subject_dir in _dirs(subjects):
        for emotion_dir in _dirs(subject_dir):
            key = emotion_dir.name.lower()
            if key not in MUG_EMOTIONS:
                raise LabelError(
                    f"{emotion_dir}: unknown MUG emotion folder {emotion_dir.name!r} "
                    f"(expected {', '.join(MUG_EMOTIONS)})"
                )
            take_dirs = _dirs(emotion_dir)
            groups = [(t.name, list_images(t, recursive=False)) for t in take_dirs]
            direct = list_images(emotion_dir, recursive=False)
            if direct:
                groups.append(("", direct))  # no take level: the emotion folder is one take
            for take, frames in groups:
                if not frames:
                    continue
                takes += 1
                group = f"{subject_dir.name}/{emotion_dir.name}/{take}"
                for frame in frames[apex_window(len(frames), apex_frames)]:
                    samples.append(Sample(frame, key, subject=subject_dir.name, group=group))
    if not samples:
        raise DatasetError(
            f"{subjects}: no MUG frames found; expected {_LAYOUT}; found: {describe_folder(subjects)}"
        )
    return build_from_samples(
        "mug",
        root,
        samples,
        MUG_EMOTIONS,
        settings,
        extra_provenance={
            "layout": "subjects3/<subject>/<emotion>/<take>/frames",
            "label_rule": "emotion folder name",
            "frame_rule": (
                "all frames"
                if apex_frames is None
                else f"{apex_frames} frame(s) centred on the middle frame of each take (the apex)"
            ),
            "subject_rule": "subject folder name",
            "group_rule": "take <subject>/<emotion>/<take>",
            "takes": takes,
        },
    )
