"""Adaptation strategies: reusable plugins plus a registry of named strategies.

- :mod:`.template`: the fast device-batch path every strategy is built on (``fast(template)``);
- :mod:`.plugins`: freezing, source rehearsal (fusion/replay, concatenated or batch-mixed), reset,
  batch augmentation, budgets, validation curves and model selection, LwF/SI/MAS/GDumb fixes;
- :mod:`.registry`: ``make_strategy(name, model, source=source_experience, ...)``,
  ``list_strategies()``, ``get_strategy_spec()``;
- :mod:`.warm_start`: the warm start that gives the regularisers (LwF/EWC/SI/MAS) and memory
  baselines their knowledge of the source before adapting (``make_strategy`` does it when given the
  source experience; ``warm_start(strategy, source_experience)`` for older callers);
- :mod:`.state`: ``strategy_state(strategy, datasets)`` / ``load_strategy_state(...)``, a strategy's
  whole state between experiences (weights, optimizer, buffers, regularisers, budgets, RNGs) as a
  ``weights_only``-loadable checkpoint.

The plugin contract: a plugin that carries state between experiences defines ``state_dict()`` /
``load_state_dict(state)``; one that needs the source before the first target defines
``warm_start(strategy, source_experience)``. Both are found by duck typing; nothing to register.
"""

# Strategies beyond the paper (lp-ft, wise-ft) register themselves on import, after the registry.
from fer_avalanche.strategies import beyond as _beyond  # noqa: F401
from fer_avalanche.strategies.registry import (
    StrategySpec,
    get_strategy_spec,
    list_strategies,
    make_strategy,
    register_strategy,
)
from fer_avalanche.strategies.warm_start import NotWarmStartedWarning, warm_start

__all__ = [
    "NotWarmStartedWarning",
    "StrategySpec",
    "get_strategy_spec",
    "list_strategies",
    "make_strategy",
    "register_strategy",
    "warm_start",
]
