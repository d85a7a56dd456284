"""Framing: every crop is a square cut from the frame (never a squashed frame), in every loader.

The crop offsets are stated by hand in each test, so shifted or swapped offsets fail.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "formats"))
from fixtures import FORMAT_FIXTURES, crop_of, write_format_fixture  # noqa: E402
from PIL import Image  # noqa: E402

from fer_avalanche.data.imageio import center_box, frame_box, frame_face, square_box  # noqa: E402
from fer_avalanche.data.registry import load_dataset  # noqa: E402
from fer_avalanche.errors import ConfigError  # noqa: E402


def test_box_helpers_by_hand() -> None:
    assert center_box(40, 32) == (4, 8, 24, 24)  # h 40, w 32: side round(32 * .75), offsets (8 / 2, 16 / 2)
    assert center_box(240, 320) == (70, 30, 180, 180)
    assert center_box(240, 320, margin=0.5) == (115, 75, 90, 90)
    assert frame_box(490, 640) == (75, 0, 490, 490) and frame_box(640, 490) == (0, 75, 490, 490)
    assert square_box((10, 20, 40, 30), 100, 200) == (10, 15, 40, 40)  # the longer side, same centre
    assert square_box((10, 20, 40, 30), 100, 200, margin=1.5) == (0, 5, 60, 60)
    assert square_box((180, 80, 30, 30), 100, 200, margin=2.0) == (140, 40, 60, 60)  # shifted inside
    assert square_box((0, 0, 500, 500), 100, 200) == (100, 0, 100, 100)  # at most the shorter side


def _square_on_dark(size: tuple[int, int]) -> np.ndarray:
    """A dark frame of ``size`` = (width, height) with a bright 24 x 24 square in its middle."""
    w, h = size
    img = np.full((h, w), 30, dtype=np.uint8)
    img[h // 2 - 12 : h // 2 + 12, w // 2 - 12 : w // 2 + 12] = 220
    return img


def _bright_extent(image: np.ndarray) -> tuple[int, int]:
    bright = image > 125
    return int(bright.any(axis=1).sum()), int(bright.any(axis=0).sum())


#: (frame size, crop) -> the crop by hand as (rows, cols) of the frame
EXPECTED = {
    ((72, 48), "none"): ((0, 48), (12, 60)),  # landscape: the centred 48 x 48 square
    ((48, 72), "none"): ((12, 60), (0, 48)),  # portrait
    ((72, 48), "center"): ((6, 42), (18, 54)),  # side round(48 * .75) = 36
    ((48, 72), "center"): ((18, 54), (6, 42)),
}


@pytest.mark.parametrize(("size", "crop"), list(EXPECTED), ids=[f"{w}x{h}-{c}" for (w, h), c in EXPECTED])
@pytest.mark.parametrize("key", list(FORMAT_FIXTURES))
def test_no_loader_squashes_a_non_square_frame(tmp_path: Path, key: str, size, crop: str) -> None:
    frame = _square_on_dark(size)

    def image(path: Path, i: int) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(frame).save(path)
        return path

    name, root = write_format_fixture(key, tmp_path / key, image)
    data = load_dataset(name, root, face_crop=crop, use_cache=False)
    first = next(
        p for p in sorted((tmp_path / key).rglob("*")) if p.suffix.lower() in {".png", ".jpg", ".tiff"}
    )
    rows, cols = EXPECTED[(size, crop)]
    expected = crop_of(first, rows, cols)
    for k in range(len(data)):
        got = data.images[k, 0].numpy()
        assert np.array_equal(got, expected), (key, k)
        high, wide = _bright_extent(got)
        assert abs(high - wide) <= 1, (key, high, wide)  # the square stays a square


def test_frame_face_says_how_it_framed() -> None:
    frame = _square_on_dark((72, 48))
    assert frame_face(frame, 24, "none")[1] == "frame"
    assert frame_face(frame, 24, "center")[1] == "center"
    image, how = frame_face(frame, 24, "center", box=(30, 10, 12, 20))
    assert how == "box" and image.shape == (24, 24)
    with pytest.raises(ConfigError, match="detect_fallback must be one of center, skip"):
        frame_face(frame, 24, "detect", fallback="drop")
    with pytest.raises(ConfigError, match="face_crop must be one of none, center, detect"):
        frame_face(frame, 24, "auto")
