"""Face detection with OpenCV's real Haar cascade, on faces the test makes: real FER2013 faces pasted
onto larger, non-square canvases, written as a JAFFE folder (the real on-disk format).

Skipped when the shared FER2013 file or OpenCV is absent. The fresh-process test loads with the threaded
decoder in new interpreters, where OpenCV is imported for the first time: the race in which a worker
thread saw ``cv2`` before ``cv2.data`` existed (``AttributeError: module 'cv2' has no attribute 'data'``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent / "formats"))
from fixtures import face_on_canvas, read_fer2013_faces, resized  # noqa: E402

from fer_avalanche.data.imageio import FaceDetector, opencv_available, square_box  # noqa: E402
from fer_avalanche.data.registry import load_dataset  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
#: FER2013 rows whose face the frontal cascade finds once pasted (checked on the shared copy)
ROWS = (2, 4, 5, 8, 9, 10, 11, 12, 13, 14, 22, 26)
CANVAS = (320, 240)  # width, height: not square, so a squashed frame would show
SUBJECTS = ("KA", "KL", "KM", "KR", "MK", "NA")
CODES = ("AN", "DI", "FE", "HA", "SA", "SU")
BLANK = "YM.NE1.99.tiff"

pytestmark = pytest.mark.skipif(not opencv_available(), reason="OpenCV (the [detect] extra) is not installed")


def _place(row: int) -> tuple[int, int, int]:
    """Where the face of ``row`` goes: ``(x, y, side)``, all over the canvas."""
    side = 120 + 8 * (row % 4)
    return 12 + (row * 37) % (CANVAS[0] - side - 24), 8 + (row * 23) % (CANVAS[1] - side - 16), side


@pytest.fixture(scope="module")
def made_faces(tmp_path_factory: pytest.TempPathFactory, fer2013_gz: Path) -> tuple[Path, dict[str, tuple]]:
    """A JAFFE folder of 12 pasted faces and one blank frame; ``{file name: (x, y, side)}``."""
    root = tmp_path_factory.mktemp("made") / "jaffe"
    root.mkdir()
    faces = read_fer2013_faces(fer2013_gz, ROWS)
    boxes = {}
    for i, row in enumerate(ROWS):
        name = f"{SUBJECTS[i % 6]}.{CODES[i % 6]}{1 + i // 6}.{100 + i}.tiff"
        x, y, side = _place(row)
        Image.fromarray(face_on_canvas(faces[row], x, y, side, CANVAS)).save(root / name)
        boxes[name] = (x, y, side)
    Image.fromarray(np.full((CANVAS[1], CANVAS[0]), 110, dtype=np.uint8)).save(root / BLANK)
    return root, boxes


@pytest.fixture(scope="module")
def fer2013_gz() -> Path:  # module-scope version of the conftest fixture (the shared real FER2013 file)
    from conftest import FER2013_GZ

    if not FER2013_GZ.is_file():
        pytest.skip(f"real FER2013 not found at {FER2013_GZ}")
    return FER2013_GZ


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def _grey(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("L"))


def _sorted_names(boxes: dict[str, tuple]) -> list[str]:
    return sorted([*boxes, BLANK])  # the loader sorts the files by name


def test_the_cascade_finds_every_pasted_face_where_it_is(made_faces) -> None:
    root, boxes = made_faces
    detector = FaceDetector()
    for name, (x, y, side) in boxes.items():
        found = detector.detect(_grey(root / name))
        assert found is not None, name
        assert _iou(found, (x, y, side, side)) > 0.6, (name, found, (x, y, side))
    assert detector.detect(_grey(root / BLANK)) is None


def test_detect_crops_the_face_and_counts_the_blank_as_a_fallback(made_faces, tmp_path: Path) -> None:
    root, boxes = made_faces
    data = load_dataset("jaffe", root, face_crop="detect", cache_dir=tmp_path / "cache")
    assert data.provenance["face_detection"] == {"detected": len(boxes), "fallback": 1}
    detector = FaceDetector()
    for i, name in enumerate(_sorted_names(boxes)):
        grey = _grey(root / name)
        got = data.images[i, 0].numpy()
        if name == BLANK:  # centre crop: 180 x 180 at (70, 30)
            assert np.array_equal(got, resized(grey[30:210, 70:250]))
            continue
        x, y, side = boxes[name]
        sx, sy, s, _ = square_box(detector.detect(grey), *grey.shape)
        assert np.array_equal(got, resized(grey[sy : sy + s, sx : sx + s]))
        pasted = resized(grey[y : y + side, x : x + side]).astype(float)
        assert np.corrcoef(got.ravel(), pasted.ravel())[0, 1] > 0.6, name  # the face, not the canvas


def test_skip_fallback_drops_the_blank_frame(made_faces, tmp_path: Path) -> None:
    root, boxes = made_faces
    with pytest.warns(UserWarning, match="skipped 1 no face detected"):
        data = load_dataset(
            "jaffe", root, face_crop="detect", detect_fallback="skip", cache_dir=tmp_path / "cache"
        )
    assert len(data) == len(boxes) and data.provenance["skipped"] == {"no face detected": 1}
    assert data.provenance["face_detection"] == {"detected": len(boxes), "fallback": 1}


def test_detections_are_cached_with_the_decoded_images(made_faces, tmp_path: Path) -> None:
    root, boxes = made_faces
    first = load_dataset("jaffe", root, face_crop="detect", cache_dir=tmp_path / "cache")
    again = load_dataset("jaffe", root, face_crop="detect", cache_dir=tmp_path / "cache")
    assert (first.provenance["cache"], again.provenance["cache"]) == ("miss", "hit")
    assert again.provenance["face_detection"] == {"detected": len(boxes), "fallback": 1}
    assert again.provenance["preprocessing"]["detector"]["cascade"] == "haarcascade_frontalface_default.xml"
    wider = load_dataset("jaffe", root, face_crop="detect", face_margin=1.3, cache_dir=tmp_path / "cache")
    assert wider.provenance["cache"] == "miss"
    with pytest.warns(UserWarning, match="skipped 1 no face detected"):
        skip = load_dataset(
            "jaffe", root, face_crop="detect", detect_fallback="skip", cache_dir=tmp_path / "cache"
        )
    assert skip.provenance["cache"] == "miss" and len(skip) == len(boxes)


def test_margin_grows_the_detected_box(made_faces, tmp_path: Path) -> None:
    root, boxes = made_faces
    data = load_dataset("jaffe", root, face_crop="detect", face_margin=1.3, use_cache=False)
    name = _sorted_names(boxes)[0]
    grey = _grey(root / name)
    bx, by, bw, bh = FaceDetector().detect(grey)
    side = round(max(bw, bh) * 1.3)
    x = min(max(0, round(bx + bw / 2 - side / 2)), grey.shape[1] - side)
    y = min(max(0, round(by + bh / 2 - side / 2)), grey.shape[0] - side)
    assert np.array_equal(data.images[0, 0].numpy(), resized(grey[y : y + side, x : x + side]))


SCRIPT = """
import json, sys
from fer_avalanche.data.registry import load_dataset
assert "cv2" not in sys.modules  # OpenCV is imported for the first time by the load below
data = load_dataset("jaffe", sys.argv[1], face_crop="detect", use_cache=False)
print(json.dumps(data.provenance["face_detection"]))
"""


@pytest.mark.parametrize("run", range(3))
def test_detect_in_a_fresh_process_with_the_threaded_decoder(made_faces, run: int) -> None:
    root, boxes = made_faces
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(root)], capture_output=True, text=True, timeout=240, env=env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"detected": len(boxes), "fallback": 1}
