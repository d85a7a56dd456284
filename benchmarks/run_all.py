"""Run every speed benchmark in one process and print one line per comparison, then the device line.

The scripts (each also runs alone, and its header says what it measures):

- ``bench_training.py``: training throughput, our strategy vs a plain PyTorch loop (target >= 0.95 on CPU)
- ``bench_compile.py``: training throughput, the same strategy with ``compile=True`` vs eager, compile
  time apart (no target: it decides whether ``compile`` is worth turning on; skipped with ``--smoke``,
  and with ``--quick`` on CPU, where a cold compile alone takes about a minute)
- ``bench_data_pipeline.py``: batches delivered, our loader + batch augmentation vs torchvision's PIL
  ``DataLoader`` with 0 and 2 workers (target >= 5)
- ``bench_eval.py``: evaluation with all our metrics vs a bare ``inference_mode`` forward loop (>= 0.9)
- ``bench_fer2013_load.py``: FER2013 first load vs cached load (targets < 20 s and < 1 s)
- ``bench_synthetic.py``: time to draw the synthetic domains (target: 10,000 faces in < 15 s)
- ``bench_executors.py``: wall time of the demo, serial vs ``--executor local --workers 2`` (skipped
  with ``--quick`` unless ``--smoke``: two whole demo runs)

Every comparison line ends in ``ratio=<ours / reference>`` (higher is better; for the FER2013 line
cold / cached); the last line names the device. ``--quick`` runs the whole suite in well under two
minutes on two CPU cores; ``--smoke`` uses tiny sizes (seconds) only to check that the scripts run.

Run: ``python benchmarks/run_all.py [--quick] [--device auto|cpu|cuda] [--width 16] [--smoke]``
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import device_line, parse_args, resolve  # noqa: E402

SCRIPTS = (
    "bench_training",
    "bench_compile",
    "bench_data_pipeline",
    "bench_eval",
    "bench_fer2013_load",
    "bench_synthetic",
    "bench_executors",
)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, argv)
    from fer_avalanche.utils import quiet_third_party

    with quiet_third_party():  # import Avalanche once, without its import-time noise
        import avalanche.training  # noqa: F401
    start = time.perf_counter()
    for name in SCRIPTS:
        module = importlib.import_module(name)
        for line in module.main(args.quick, args.device, width=args.width, smoke=args.smoke):
            print(line, flush=True)
    print(f"total benchmark time {time.perf_counter() - start:.1f} s", file=sys.stderr)
    print(device_line(resolve(args.device)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
