"""read_grey / frame_face: every image mode to grey uint8, clear errors, crops and resizing."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "formats"))
from fixtures import image_array, write_corrupt_image, write_image, write_truncated_image  # noqa: E402

from fer_avalanche.data.imageio import frame_face, read_grey  # noqa: E402
from fer_avalanche.errors import ConfigError, DatasetError  # noqa: E402


@pytest.mark.parametrize(
    "mode, suffix",
    [
        ("L", ".png"),
        ("RGB", ".jpg"),
        ("RGBA", ".png"),
        ("P", ".gif"),
        ("I;16", ".png"),
        ("L", ".tiff"),
        ("P", ".tif"),
        ("L", ".bmp"),
    ],
)
def test_modes_become_grey_uint8(tmp_path, mode, suffix):
    path = write_image(tmp_path / f"img{suffix}", size=(40, 30), mode=mode)
    grey = read_grey(path)
    assert grey.dtype == np.uint8 and grey.shape == (30, 40)


def test_grey_png_round_trips(tmp_path):
    path = write_image(tmp_path / "a.png", size=(20, 10), seed=5)
    assert np.array_equal(read_grey(path), image_array((20, 10), "L", seed=5))


def test_errors_name_the_file(tmp_path):
    with pytest.raises(DatasetError, match=r"nope\.png: image file not found"):
        read_grey(tmp_path / "nope.png")
    with pytest.raises(DatasetError, match=r"bad\.jpg: cannot decode image"):
        read_grey(write_corrupt_image(tmp_path / "bad.jpg"))
    with pytest.raises(DatasetError, match=r"cut\.png: cannot decode image"):
        read_grey(write_truncated_image(tmp_path / "cut.png"))


def _frame(grey, size, face_crop="none", box=None):
    image, _ = frame_face(grey, size, face_crop, box=box)
    return image


def test_frame_face_resize_crop_box():
    grey = np.arange(100 * 80, dtype=np.int64).reshape(100, 80).astype(np.uint8)
    assert _frame(grey, 48).shape == (48, 48)
    same = np.zeros((48, 48), dtype=np.uint8)
    assert _frame(same, 48) is not None and np.array_equal(_frame(same, 48), same)
    assert _frame(grey, 32, face_crop="center").shape == (32, 32)
    box = _frame(grey, 10, box=(0, 0, 10, 10))
    assert np.array_equal(box, grey[:10, :10])  # explicit box, no resize needed
    assert _frame(grey, 16, box=(-5, -5, 1000, 1000)).shape == (16, 16)  # clipped to the image
    with pytest.raises(ConfigError, match="face_crop"):
        _frame(grey, 48, face_crop="magic")
