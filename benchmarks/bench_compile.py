"""Training throughput with ``torch.compile``: the same strategy compiled in place vs eager.

Both sides are ``make_strategy("naive", ...)`` with our evaluator and augmentation off, on the same
initial weights, data (a last batch smaller than the others, as in real epochs) and batch size; they
differ only in ``compile=True`` (``nn.Module.compile()``, inductor, ``dynamic=None``). Timed over whole
``strategy.train(experience)`` calls, one epoch each.

Compilation is excluded from the throughput and reported on its own: the compiled side first trains
two warm-up epochs (the first compiles the graph for the full batch and, at the smaller last batch,
a graph with a symbolic batch size), then both alternate ``repeats`` epochs and the median epochs are
compared. ``compile`` = first compiled epoch - median compiled epoch; ``eval compile`` = the same for
the first evaluation (a third graph: eval mode, no gradients). torch caches compiled kernels on disk
(``TORCHINDUCTOR_CACHE_DIR``, by default ``/tmp/torchinductor_<user>``): the line gives the cache hits
and misses, and ``--cold`` compiles into a fresh temporary cache (what a first run on a machine pays).
``pays off after`` = compile time / time saved per epoch, in epochs of this size.

Reading the ratio: compiled / eager images per second; > 1 means compiled epochs are faster.
``--smoke`` skips this script, and so does ``--quick`` on CPU (a cold compile alone takes about a
minute on two cores), saying so on stderr; run it alone for the measurement.

Run: ``python benchmarks/bench_compile.py [--quick] [--device auto|cpu|cuda] [--width 16] [--cold]``
"""

from __future__ import annotations

import copy
import os
import statistics
import sys
import tempfile

import torch
from common import LABEL_NAMES, device_line, parse_args, resolve, synthetic_data, timed

BATCH = 64
LR = 1e-3


def _cache_counts() -> tuple[int, int]:
    from torch._dynamo.utils import counters

    return counters["inductor"]["fxgraph_cache_hit"], counters["inductor"]["fxgraph_cache_miss"]


def main(quick: bool = False, device: str = "auto", *, width: int = 16, smoke: bool = False) -> list[str]:
    """Run the comparison and return the printed lines (without the device line)."""
    from fer_avalanche.benchmarks import cross_dataset_benchmark
    from fer_avalanche.metrics import make_evaluator
    from fer_avalanche.models import make_model
    from fer_avalanche.strategies.registry import make_strategy
    from fer_avalanche.utils import quiet_third_party

    dev = resolve(device)
    cuda = dev.type == "cuda"
    if smoke or (quick and not cuda):
        print(
            "training (torch.compile): skipped with --smoke, and with --quick on CPU (a cold torch.compile "
            "alone takes about a minute on 2 cores); run python benchmarks/bench_compile.py",
            file=sys.stderr,
            flush=True,
        )
        return []
    if quick:
        n, repeats = 128 * BATCH + BATCH // 2, 5
    else:
        n, repeats = (780 if cuda else 31) * BATCH + BATCH // 2, 5
    data = synthetic_data(n, n_test=BATCH)
    bench = cross_dataset_benchmark([data])
    exp = bench.train_stream[0]

    torch.manual_seed(0)
    model0 = make_model(width=width)

    def build(compile: bool):
        evaluator, _ = make_evaluator(len(LABEL_NAMES), LABEL_NAMES, confusion_images=False)
        return make_strategy(
            "naive",
            copy.deepcopy(model0),
            lr=LR,
            epochs=1,
            batch_size=BATCH,
            device=dev,
            evaluator=evaluator,
            augment=False,
            compile=compile,
        )

    with quiet_third_party():  # Avalanche prints per-epoch progress; the timings are ours
        compiled, eager = build(True), build(False)
        hits0, misses0 = _cache_counts()
        t_first = timed(lambda: compiled.train(exp), dev)
        timed(lambda: eager.train(exp), dev)
        timed(lambda: compiled.train(exp), dev)  # a second warm-up: any late recompilation is done
        t_eval_first = timed(lambda: compiled.eval(bench.test_stream), dev)
        hits, misses = (a - b for a, b in zip(_cache_counts(), (hits0, misses0), strict=True))
        t_c: list[float] = []
        t_e: list[float] = []
        for _ in range(repeats):
            t_c.append(timed(lambda: compiled.train(exp), dev))
            t_e.append(timed(lambda: eager.train(exp), dev))
        t_eval = statistics.median(timed(lambda: compiled.eval(bench.test_stream), dev) for _ in range(3))
    med_c, med_e = statistics.median(t_c), statistics.median(t_e)
    compile_s = max(t_first - med_c, 0.0)
    eval_compile_s = max(t_eval_first - t_eval, 0.0)
    saved = med_e - med_c
    payoff = f"pays off after {compile_s / saved:.0f} epochs" if saved > 0 else "never pays off"
    detail = (
        f"n={n}, batch {BATCH}, width {width}, median of {repeats}; compile {compile_s:.1f} s "
        f"+ eval compile {eval_compile_s:.1f} s, FX graph cache {hits} hits / {misses} misses, {payoff}"
    )
    return [
        f"training (naive strategy, torch.compile): compiled {n / med_c:,.0f} img/s vs eager "
        f"{n / med_e:,.0f} img/s ({detail}) ratio={med_e / med_c:.2f}"
    ]


def _add_cold(p) -> None:
    p.add_argument("--cold", action="store_true", help="compile into a fresh temporary inductor cache")


if __name__ == "__main__":
    args = parse_args(__doc__, extra=_add_cold)
    with tempfile.TemporaryDirectory(prefix="fer-compile-cache-") as tmp:
        if args.cold:  # read by inductor (and Triton) at their first compilation, i.e. after this
            os.environ["TORCHINDUCTOR_CACHE_DIR"] = tmp
            os.environ["TRITON_CACHE_DIR"] = os.path.join(tmp, "triton")
        for line in main(args.quick, args.device, width=args.width, smoke=args.smoke):
            print(line, flush=True)
    print(device_line(resolve(args.device)))
    sys.exit(0)
