"""The decode cache: hits, invalidation by file and by setting, atomic writes, unreadable entries."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "formats"))
from fixtures import write_image  # noqa: E402

from fer_avalanche import load_dataset  # noqa: E402
from fer_avalanche.data.cache import cache_key, cached_load, default_cache_dir  # noqa: E402


@pytest.fixture
def root(tmp_path) -> Path:
    root = tmp_path / "ds"
    for i, cls in enumerate(["happy", "sad", "angry"]):
        write_image(root / cls / f"{i}.png", seed=i)
    return root


def load(root, cache, **kw):
    return load_dataset("folder", root, cache_dir=cache, **kw)


def test_second_load_hits(root, tmp_path):
    cache = tmp_path / "cache"
    first = load(root, cache)
    second = load(root, cache)
    assert (first.provenance["cache"], second.provenance["cache"]) == ("miss", "hit")
    assert bool((first.images == second.images).all()) and first.labels.tolist() == second.labels.tolist()
    assert second.provenance["source_size"] == [64, 64]
    files = list(cache.iterdir())
    assert len(files) == 1 and files[0].suffix == ".npz"
    assert not [p for p in files if ".tmp" in p.name]  # written atomically: no temporary file left


def test_changed_file_invalidates(root, tmp_path):
    cache = tmp_path / "cache"
    load(root, cache)
    target = root / "sad" / "1.png"
    write_image(target, seed=42)
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert load(root, cache).provenance["cache"] == "miss"
    target.touch()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 3 * 10**9))
    assert load(root, cache).provenance["cache"] == "miss"  # touch alone invalidates (mtime is in the key)
    write_image(root / "fear" / "9.png", seed=9)
    data = load(root, cache)
    assert data.provenance["cache"] == "miss" and len(data) == 4


@pytest.mark.parametrize(
    "setting",
    [{"image_size": 32}, {"face_crop": "center"}, {"label_space": "basic8"}, {"skip_corrupt": True}],
)
def test_changed_setting_invalidates(root, tmp_path, setting):
    cache = tmp_path / "cache"
    load(root, cache)
    assert load(root, cache, **setting).provenance["cache"] == "miss"
    assert load(root, cache, **setting).provenance["cache"] == "hit"


def test_use_cache_off_writes_nothing(root, tmp_path):
    data = load(root, tmp_path / "cache", use_cache=False)
    assert data.provenance["cache"] == "off" and not (tmp_path / "cache").exists()


def test_unreadable_entry_is_rebuilt(root, tmp_path):
    cache = tmp_path / "cache"
    load(root, cache)
    (entry,) = cache.iterdir()
    entry.write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="ignoring unreadable cache entry"):
        data = load(root, cache)
    assert data.provenance["cache"] == "miss" and len(data) == 3
    assert load(root, cache).provenance["cache"] == "hit"


def test_cache_key_and_default_dir(tmp_path, monkeypatch):
    f = tmp_path / "a.bin"
    f.write_bytes(b"1")
    k1 = cache_key("x", [f], {"s": 1})
    assert (
        k1 == cache_key("x", [f], {"s": 1}) != cache_key("x", [f], {"s": 2}) != cache_key("y", [f], {"s": 1})
    )
    monkeypatch.setenv("FER_AVALANCHE_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"


def test_failed_build_leaves_no_entry(tmp_path):
    def build():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        cached_load("x", [], {}, build, cache_dir=tmp_path / "c")
    assert not (tmp_path / "c").exists() or not list((tmp_path / "c").iterdir())
