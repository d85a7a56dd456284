"""The experiment as a plan of independent cells, run on an executor, written to a run directory.

Modules, in the order a run uses them:

- :mod:`~fer_avalanche.experiment.plan`: :class:`Cell` and :func:`plan_cells` (what to run);
- :mod:`~fer_avalanche.experiment.store`: the run directory (resume/overwrite rules, cell files);
- :mod:`~fer_avalanche.experiment.keys`: baseline and cell keys (what a result depends on);
- :mod:`~fer_avalanche.experiment.context`: datasets, models and strategies from the scenario;
- :mod:`~fer_avalanche.experiment.baseline`: train or load the baseline of a seed;
- :mod:`~fer_avalanche.experiment.cell`: run one cell from its inputs alone;
- :mod:`~fer_avalanche.experiment.records`: typed records and the ``results.json`` dict;
- :mod:`~fer_avalanche.experiment.executors`: ``serial``, ``local`` (Dask LocalCluster), ``dask``;
- :mod:`~fer_avalanche.experiment.progress` and :mod:`~fer_avalanche.experiment.tensorboard`;
- :mod:`~fer_avalanche.experiment.loggers`: the run's loggers by name (TensorBoard, Avalanche's CSV,
  text, interactive and W&B loggers), fed from the records;
- :mod:`~fer_avalanche.experiment.run`: :func:`run_scenario`, which ties them together.

Example:
    >>> from fer_avalanche import Scenario, run_scenario
    >>> scenario = Scenario.demo().with_overrides(["strategies.names=['ft-fc', 'fusion']"])
    >>> run = run_scenario(scenario, out="runs/my-demo", device="cpu")  # doctest: +SKIP
    >>> run.results["rows"][0]["memory_integrity"]  # doctest: +SKIP
"""

from fer_avalanche.experiment.plan import Cell, plan_cells
from fer_avalanche.experiment.records import TIMING_KEYS
from fer_avalanche.experiment.run import RunResult, default_run_dir, run_scenario

__all__ = ["Cell", "plan_cells", "run_scenario", "RunResult", "default_run_dir", "TIMING_KEYS"]
