import os
import stat

import pytest

from fer_avalanche.io import atomic_path, atomic_write_text, write_json


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "results.json"
    write_json(target, {"v": 1})
    with pytest.raises(RuntimeError, match="killed mid-write"), atomic_path(target) as tmp:
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


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_atomic_files_get_the_permissions_of_a_plain_write(tmp_path):
    old = os.umask(0o022)
    try:
        write_json(tmp_path / "results.json", {"a": 1})
        (tmp_path / "plain.json").write_text("{}")
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "results.json").stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "plain.json").stat().st_mode) == 0o644


def test_quiet_third_party_silences_only_known_noise():
    import warnings

    from fer_avalanche.utils import quiet_third_party

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with quiet_third_party():
            warnings.warn_explicit("old api", DeprecationWarning, "x.py", 1, module="avalanche.training")
            noise = "No loggers specified"
            warnings.warn_explicit(noise, UserWarning, "x.py", 1, module="avalanche.training")
            warnings.warn("a real problem in our code", UserWarning, stacklevel=1)
            warnings.warn_explicit("something else", UserWarning, "x.py", 1, module="avalanche.training")
    assert sorted(str(w.message) for w in caught) == ["a real problem in our code", "something else"]
