"""The public API: every exported name imports, and the README's Python block runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import fer_avalanche

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.parametrize("name", fer_avalanche.__all__)
def test_every_exported_name_imports(name):
    assert getattr(fer_avalanche, name) is not None


def _python_block() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Python API") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.slow
def test_readme_python_block_runs_with_small_sizes(tmp_path, monkeypatch):
    """The README's block, with its sizes shrunk (and the demo run shrunk by a --set), runs."""
    code = _python_block()
    small = (
        code.replace('make_domain("wild", n=3000)', 'make_domain("wild", n=420)')
        .replace("epochs=5", "epochs=1")
        .replace("epochs=10", "epochs=1")
        .replace("Scenario.demo()", "Scenario.demo().with_overrides(TINY)")
        .replace('out="runs/demo"', f'out=r"{tmp_path / "demo"}", cache_dir=r"{tmp_path / "cache"}"')
    )
    assert small != code
    monkeypatch.chdir(tmp_path)
    tiny = ["source.n=280", "targets.lab-a.n=140", "targets.lab-b.n=140", "model.width=4", "train.epochs=1",
            "adapt.epochs=1", "strategies.names=['baseline','ft-fc']"]  # fmt: skip
    namespace = {"TINY": tiny}
    exec(compile(small, "README.md", "exec"), namespace)
    assert 0 < namespace["run"].results["rows"][0]["memory_integrity"]
