import re
import tomllib
from pathlib import Path

import pytest

from fer_avalanche.config import Scenario, load_scenario, scenario_to_toml
from fer_avalanche.errors import ConfigError

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def test_demo_file_matches_the_builtin_demo():
    assert load_scenario(SCENARIOS / "demo.toml") == Scenario.demo()


@pytest.mark.parametrize("name", ["demo", "paper", "sequential", "beyond"])
def test_bundled_scenarios_are_valid(name):
    scenario = load_scenario(SCENARIOS / f"{name}.toml")
    assert scenario.name == name


def test_toml_round_trip():
    scenario = load_scenario(SCENARIOS / "paper.toml")
    text = scenario_to_toml(scenario)
    assert Scenario.from_dict(tomllib.loads(text)) == scenario


def test_compile_is_off_by_default_and_round_trips_through_toml():
    assert Scenario.demo().compile is False
    scenario = Scenario.demo().with_overrides(["compile=true"])
    assert scenario.compile is True
    text = scenario_to_toml(scenario)
    assert "compile = true" in text.splitlines()
    assert Scenario.from_dict(tomllib.loads(text)) == scenario
    assert Scenario.from_dict(tomllib.loads(scenario_to_toml(Scenario.demo()))).compile is False


def test_overrides_address_targets_by_name_and_parse_values():
    scenario = load_scenario(
        SCENARIOS / "paper.toml",
        ["targets.jaffe.root=/data/jaffe", "adapt.epochs=3", "strategies.names=['ft-fc','fusion']"],
    )
    assert scenario.targets[0].root == "/data/jaffe"
    assert scenario.adapt.epochs == 3
    assert scenario.strategies.names == ["ft-fc", "fusion"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mdoe = 'pairwise'", "unknown key 'mdoe'; did you mean 'mode'"),
        ("mode = 'parallel'", "mode must be one of pairwise, sequential"),
        ("[adapt]\nepochs = 'ten'", "adapt.epochs must be int, got str"),
        ("[adapt]\nlr = -1.0", "adapt.lr must be in"),
        ("[model]\nwidht = 8", "unknown key 'model.widht'; did you mean 'width'"),
        ("[strategies]\nnames = ['ft-fcc']", "did you mean 'ft-fc'"),
        ("[source]\nname = 'fer'\nformat = 'fer2013'", "source.root: dataset 'fer'"),
        ("seeds = [0, 0]", "seeds"),
        ("compile = 'yes'", "compile must be bool, got str"),
        ("compile = 1", "compile must be bool, got int"),
        ("compiel = true", "unknown key 'compiel'; did you mean 'compile'"),
        ("mode = ", "not valid TOML"),
    ],
)
def test_bad_scenarios_name_the_key(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    base = tomllib.loads((SCENARIOS / "demo.toml").read_text())
    try:
        extra = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        path.write_text(text)
    else:
        for key, value in extra.items():
            if isinstance(value, dict) and isinstance(base.get(key), dict):
                base[key].update(value)
            else:
                base[key] = value
        path.write_text(_dump(base))
    with pytest.raises(ConfigError, match=re.escape(message)) as info:
        load_scenario(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def _dump(raw):
    from fer_avalanche.config import _toml_table

    lines = []
    _toml_table(raw, [], lines)
    return "\n".join(lines) + "\n"


def test_missing_scenario_file():
    with pytest.raises(ConfigError, match="scenario file not found"):
        load_scenario("nope.toml")


def test_a_misspelt_bundled_scenario_name_suggests_the_close_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no file of that name here
    with pytest.raises(ConfigError, match=r"papr: scenario file not found.*did you mean 'paper'\?"):
        load_scenario("papr")


def test_bad_override_syntax():
    with pytest.raises(ConfigError, match="expected key=value"):
        Scenario.demo().with_overrides(["adapt.epochs"])
    with pytest.raises(ConfigError, match="no entry 'ckplus'"):
        Scenario.demo().with_overrides(["targets.ckplus.root=/x"])
