"""The one registry helper behind formats, strategies, architectures and domains."""

import pytest

from fer_avalanche.errors import ConfigError
from fer_avalanche.registry import Registry


def test_registry_resolves_names_and_aliases_case_insensitively_in_registration_order():
    reg: Registry[int] = Registry("thing")
    reg.add("beta", 2)
    reg.add("alpha", 1, aliases=("a1",))
    assert reg.names() == ["beta", "alpha"]
    assert reg.get("ALPHA") == 1 and reg.get("a1") == 1 and reg.canonical("A1") == "alpha"
    assert "Beta" in reg and "gamma" not in reg
    assert reg.names("a*") == ["alpha"]


def test_unknown_name_suggests_the_closest_and_lists_the_registered():
    reg: Registry[int] = Registry("strategy")
    reg.add("retrain", 1)
    reg.add("replay", 2)
    with pytest.raises(
        ConfigError,
        match=r"unknown strategy 'retrian'; did you mean 'retrain'\? \(registered: retrain, replay\)",
    ):
        reg.get("retrian")


def test_a_name_cannot_be_taken_twice():
    reg: Registry[int] = Registry("format")
    reg.add("jaffe", 1, aliases=("jaffe-tiff",))
    with pytest.raises(ConfigError, match="already registered"):
        reg.add("other", 2, aliases=("jaffe-tiff",))


def test_loader_runs_once_before_the_first_lookup():
    calls = []
    reg: Registry[int] = Registry("format", loader=lambda: (calls.append(1), reg.add("x", 1)))
    assert calls == []
    assert reg.get("x") == 1 and reg.names() == ["x"] and calls == [1]
