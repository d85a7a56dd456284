"""``data show``: a PNG grid of the faces as stored (after framing and resizing), per class."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent / "formats"))
from fixtures import write_format_fixture  # noqa: E402

from fer_avalanche.cli import main  # noqa: E402
from fer_avalanche.data.registry import load_dataset  # noqa: E402
from fer_avalanche.data.show import face_grid, pick_per_class, show_dataset  # noqa: E402
from fer_avalanche.data.synthetic import make_domain  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def test_the_grid_shows_the_stored_images_row_by_class() -> None:
    data = make_domain("lab-b", n=140, seed=3)
    fig = face_grid(data, per_class=3, seed=1)
    canvas = np.asarray(fig.axes[0].images[0].get_array())
    picks = pick_per_class(data, 3, seed=1)
    assert [len(p) for p in picks] == [3] * 7
    for c, idx in enumerate(picks):
        assert (data.labels[idx] == c).all()
        for j, i in enumerate(idx):  # tile (c, j) is image i, pixel for pixel (48 px tiles, 2 px gaps)
            tile = canvas[c * 50 : c * 50 + 48, j * 50 : j * 50 + 48]
            assert np.array_equal(tile, data.images[i, 0].numpy()), (c, j)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == list(data.label_space.names)


def test_a_missing_class_keeps_an_empty_row_and_says_so() -> None:
    data = make_domain("lab-a", n=70)
    data = data.subset(data.labels != 1)  # no disgust
    fig = face_grid(data, per_class=2)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[1] == "disgust (0)"
    canvas = np.asarray(fig.axes[0].images[0].get_array())
    assert (canvas[50:98] == 255).all()


def test_show_dataset_writes_a_png_atomically(tmp_path: Path) -> None:
    name, root = write_format_fixture("folder", tmp_path / "faces")
    out = show_dataset(name, root, out=tmp_path / "out" / "grid.png", per_class=2, face_crop="center")
    assert out.read_bytes()[:8] == PNG
    with Image.open(out) as image:
        assert image.size[0] > 100 and image.size[1] > 100
    assert sorted(p.name for p in out.parent.iterdir()) == ["grid.png"]  # no temporary file left
    data = load_dataset(name, root, face_crop="center", use_cache=False)
    assert "face_crop=center" in face_grid(data, 2).axes[0].get_title()


def test_cli_data_show_for_a_format_and_for_the_synthetic_domains(tmp_path: Path, capsys) -> None:
    name, root = write_format_fixture("jaffe", tmp_path / "jaffe")
    out = tmp_path / "jaffe.png"
    assert (
        main(
            ["data", "show", name, str(root), "--out", str(out), "--per-class", "2", "--face-crop", "detect"]
        )
        == 0
    )
    assert capsys.readouterr().out.strip() == str(out) and out.read_bytes()[:8] == PNG
    both = tmp_path / "domains.png"
    assert main(["data", "show", "synthetic", "all", "--out", str(both), "--per-class", "1"]) == 0
    one = tmp_path / "lab-b.png"
    assert (
        main(["data", "show", "synthetic", "--domain", "lab-b", "--out", str(one), "--per-class", "2"]) == 0
    )
    assert both.read_bytes()[:8] == PNG and one.read_bytes()[:8] == PNG
    with Image.open(both) as a, Image.open(one) as b:
        assert a.size[0] > b.size[0]  # every domain side by side is wider than one domain


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["data", "show", "synthetic", "lab-z"], "unknown synthetic domain 'lab-z'; did you mean"),
        (["data", "show", "jaffe"], "give the dataset's ROOT"),
        (["data", "show", "jafe", "x"], "did you mean 'jaffe'"),
    ],
)
def test_cli_data_show_errors_are_one_line(tmp_path: Path, capsys, argv: list[str], message: str) -> None:
    assert main([*argv, "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert not (tmp_path / "x.png").exists()
