"""Loaders take the shared settings as one ``LoadSettings``; ``load_dataset`` keeps its keyword API,
its errors for unknown settings, and looks formats up in the package's ``Registry``."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "formats"))
from fixtures import write_format_fixture  # noqa: E402

from fer_avalanche.data.formats._common import SETTING_NAMES, LoadSettings  # noqa: E402
from fer_avalanche.data.registry import FORMATS, get_format, list_formats, load_dataset  # noqa: E402
from fer_avalanche.errors import ConfigError  # noqa: E402
from fer_avalanche.registry import Registry  # noqa: E402


def test_every_loader_takes_one_settings_object_and_only_its_own_keywords() -> None:
    assert isinstance(FORMATS, Registry)
    assert list_formats() == sorted(
        [
            "affectnet",
            "ckplus",
            "csv",
            "fer2013",
            "ferplus",
            "folder",
            "jaffe",
            "kdef",
            "mug",
            "rafdb",
            "tfeid",
        ]
    )
    for name in list_formats():
        params = list(inspect.signature(get_format(name).loader).parameters.values())
        assert [p.name for p in params[:2]] == ["root", "settings"], name
        assert params[1].annotation in (LoadSettings, "LoadSettings"), name
        own = [p.name for p in params[2:]]
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params[2:]), name
        assert not set(own) & set(SETTING_NAMES), name
    assert get_format("CK+48").name == "ckplus" and get_format("fer+").name == "ferplus"


def test_keyword_settings_reach_the_loader_as_one_object(tmp_path: Path, monkeypatch) -> None:
    seen = {}
    info = get_format("jaffe")

    def spy(root, settings, **own):
        seen.update(settings=settings, own=own)
        return info.loader(root, settings, **own)

    monkeypatch.setitem(FORMATS._entries, "jaffe", type(info)(info.name, spy, info.description, info.aliases))
    name, root = write_format_fixture("jaffe", tmp_path / "j")
    load_dataset(name, root, image_size=32, face_crop="center", face_margin=1.2, use_cache=False)
    assert isinstance(seen["settings"], LoadSettings) and seen["own"] == {}
    assert (seen["settings"].image_size, seen["settings"].face_crop, seen["settings"].face_margin) == (
        32,
        "center",
        1.2,
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"face_crp": "center"},
            r"dataset format 'jaffe' has no setting 'face_crp'; did you mean 'face_crop'\?",
        ),
        ({"peak_frames": 2}, r"dataset format 'jaffe' has no setting 'peak_frames'; valid: label_space"),
        ({"face_crop": "magic"}, r"face_crop must be one of none, center, detect, auto, got 'magic'"),
        ({"face_margin": 0}, r"face_margin must be a number in 0.2..4.0"),
        ({"detect_fallback": "drop"}, r"detect_fallback must be one of center, skip"),
        ({"image_size": 4}, r"image_size must be an integer in 8..512"),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, settings: dict, message: str) -> None:
    name, root = write_format_fixture("jaffe", tmp_path / "j")
    with pytest.raises(ConfigError, match=message):
        load_dataset(name, root, **settings)


def test_unknown_format_suggests_the_closest() -> None:
    with pytest.raises(ConfigError, match=r"unknown dataset format 'jafe'; did you mean 'jaffe'\?"):
        load_dataset("jafe", ".")


def test_format_options_still_work(tmp_path: Path) -> None:
    name, root = write_format_fixture("ckplus", tmp_path / "ck")
    data = load_dataset(name, root, peak_frames=1, face_crop="none", use_cache=False)
    assert len(data) == 2 and data.provenance["label_rule"].startswith("last 1 frame")
