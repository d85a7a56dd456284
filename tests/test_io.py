import os

import pytest

from fer_avalanche.io import atomic_path, atomic_write_text, write_json


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "results.json"
    write_json(target, {"v": 1})
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text('{"v": 2, "trunc')
        raise RuntimeError("killed mid-write")
    assert target.read_text() == '{\n  "v": 1\n}\n'
    assert os.listdir(tmp_path) == ["results.json"]


def test_atomic_write_replaces_and_creates_parents(tmp_path):
    target = tmp_path / "deep" / "table.md"
    atomic_write_text(target, "a")
    atomic_write_text(target, "b")
    assert target.read_text() == "b"
    assert sorted(os.listdir(target.parent)) == ["table.md"]
