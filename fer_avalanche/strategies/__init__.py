"""Adaptation strategies: reusable plugins plus a registry of named strategies.

- :mod:`.template`: the fast device-batch path every strategy is built on (``fast(template)``);
- :mod:`.plugins`: freezing, source rehearsal (fusion/replay), reset, batch augmentation, LwF teacher;
- :mod:`.registry`: ``make_strategy(name, model, ...)``, ``list_strategies()``, ``get_strategy_spec()``;
- :mod:`.warm_start`: ``warm_start(strategy, source_experience)``, which gives the regularisers
  (LwF/EWC/SI/MAS) and memory baselines their knowledge of the source before adapting;
- :mod:`.state`: ``strategy_state(strategy, datasets)`` / ``load_strategy_state(...)``, a strategy's
  whole state between experiences (weights, optimizer, buffers, regularisers, RNGs) as a
  ``weights_only``-loadable checkpoint; ``register_state`` declares a custom plugin's state.
"""

from fer_avalanche.strategies.registry import (
    StrategySpec,
    get_strategy_spec,
    list_strategies,
    make_strategy,
    register_strategy,
)
from fer_avalanche.strategies.warm_start import warm_start

__all__ = [
    "StrategySpec",
    "get_strategy_spec",
    "list_strategies",
    "make_strategy",
    "register_strategy",
    "warm_start",
]
