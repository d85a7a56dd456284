"""Wall time of one scenario, serial vs the local Dask executor with 2 workers (same run, same machine).

Runs the scenario twice in fresh run directories with fresh baseline caches (so both train their
baseline): once ``executor="serial"`` (all cores for each cell), once ``executor="local", workers=2``
(one process per worker, cores // 2 threads each). Prints::

    executors: demo serial 112.3 s / local(2 workers) 80.1 s  ratio=1.40

``ratio`` = serial / local wall time (higher = the local cluster is faster). The local run includes
starting the cluster and each worker's imports. ``--quick`` shrinks the demo; ``--smoke`` to seconds.

Run: ``python benchmarks/bench_executors.py [--quick] [--smoke]``
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import parse_args  # noqa: E402

QUICK = ["source.n=1500", "targets.lab-a.n=300", "targets.lab-b.n=300", "train.epochs=2", "adapt.epochs=2"]
SMOKE = [
    "source.n=280",
    "targets.lab-a.n=140",
    "targets.lab-b.n=140",
    "model.width=4",
    "train.epochs=1",
    "adapt.epochs=1",
    "strategies.names=['ft-fc','retrain']",
]


def main(quick: bool = False, device: str = "auto", *, width: int = 16, smoke: bool = False) -> list[str]:
    """Both runs; under ``run_all --quick`` (not smoke) it is skipped: two demo runs take minutes."""
    from fer_avalanche import Scenario, run_scenario

    if quick and not smoke and __name__ != "__main__":
        return []

    scenario = Scenario.demo().with_overrides(SMOKE if smoke else QUICK if quick else [])
    times = {}
    for executor, workers in (("serial", None), ("local", 2)):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            run_scenario(
                scenario,
                out=Path(tmp) / "run",
                cache_dir=Path(tmp) / "cache",
                device=device,
                tensorboard=False,
                executor=executor,
                workers=workers,
            )
            times[executor] = time.perf_counter() - start
    ratio = times["serial"] / times["local"]
    serial, local = times["serial"], times["local"]
    line = f"executors: {scenario.name} serial {serial:.1f} s / local(2 workers) {local:.1f} s"
    return [f"{line}  ratio={ratio:.2f}"]


if __name__ == "__main__":
    args = parse_args(__doc__)
    for line in main(args.quick, args.device, smoke=args.smoke):
        print(line, flush=True)
