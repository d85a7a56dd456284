"""The Protocols the runner types strategies and plugins with match what the package builds."""

from _strategy_helpers import build, tiny_benchmark

from fer_avalanche.strategies.plugins import BudgetPlugin, FrozenTeacherLwFPlugin, ValidationPlugin
from fer_avalanche.strategies.protocols import FERStrategy, StatefulPlugin, WarmStartPlugin


def _members(protocol: type) -> set[str]:
    own = {name for name in vars(protocol) if not name.startswith("_")}
    return own | set(getattr(protocol, "__annotations__", {}))


def test_a_built_strategy_has_every_member_the_runner_uses():
    from conftest import tiny_fer

    strategy = build("ft-fc", tiny_benchmark(tiny_fer, n_source=40, n_targets=(40,)))
    members = _members(FERStrategy)
    assert {"model", "device", "plugins", "fer_budget", "fer_curve", "train", "eval"} <= members
    assert [m for m in sorted(members) if not hasattr(strategy, m)] == []
    assert strategy.fer_absent_classes == "train" and strategy.fer_budget["steps"] == 0  # set, typed, real


def test_the_package_plugins_are_stateful_and_warm_start_plugins():
    assert isinstance(BudgetPlugin(epochs=1), StatefulPlugin)
    assert isinstance(ValidationPlugin(None), StatefulPlugin)
    assert isinstance(FrozenTeacherLwFPlugin(), WarmStartPlugin)
    assert not isinstance(object(), StatefulPlugin) and not isinstance(object(), WarmStartPlugin)
