"""Shared helpers for the benchmark scripts: device choice, clocks that respect CUDA, data, and printing.

Every benchmark prints one line per comparison, ending in ``ratio=<number>`` where the ratio is *ours /
reference* throughput (higher is better; for load times, cold / cached). :func:`device_line` names the
hardware the numbers came from. Nothing here is imported by the package itself.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parents[1]
#: FER2013 as shipped beside the repository (``../shared/data/fer2013/fer2013.csv.gz``).
FER2013_GZ = REPO.parent / "shared" / "data" / "fer2013" / "fer2013.csv.gz"
#: Canonical ``basic7`` class names, in label order (for evaluators).
LABEL_NAMES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def resolve(device: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; also limits CPU threads to the cores we have."""
    from fer_avalanche.utils import resolve_device

    torch.set_num_threads(min(torch.get_num_threads(), os.cpu_count() or 1))
    return resolve_device(device)


def sync(device: torch.device) -> None:
    """Wait for queued device work so a clock read afterwards is honest."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], Any], device: torch.device) -> float:
    """Wall seconds of ``fn()``, synchronising the device before and after."""
    sync(device)
    start = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - start


def compare(
    ours: Callable[[], Any],
    reference: Callable[[], Any],
    device: torch.device,
    repeats: int,
    warmup: int = 1,
) -> tuple[float, float]:
    """Median seconds of ``ours`` and ``reference``, run alternately (warm-up first) to share any drift."""
    t_ours, t_ref = compare_many([ours, reference], device, repeats, warmup)
    return t_ours, t_ref


def compare_many(
    fns: Sequence[Callable[[], Any]], device: torch.device, repeats: int, warmup: int = 1
) -> list[float]:
    """Median seconds of each function, all run in turn ``warmup`` times then ``repeats`` times."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times, strict=True):
            ts.append(timed(fn, device))
    return [statistics.median(ts) for ts in times]


def reference_settings(strategy: Any, plain: str = "plain PyTorch loop") -> list[tuple[str, bool, bool]]:
    """``(name, amp, channels_last)`` for the reference loops of a comparison with ``strategy``.

    First the reference with our template's own settings (bf16 autocast, memory format), so that only
    the plumbing differs; then, if that is not already it, the plain fp32 NCHW loop most people write.
    """
    amp = bool(getattr(strategy, "amp", False))
    channels_last = any(
        p.dim() == 4 and not p.is_contiguous() and p.is_contiguous(memory_format=torch.channels_last)
        for p in strategy.model.parameters()
    )
    same = ", ".join(["bf16 autocast"] * amp + ["channels_last"] * channels_last) or "fp32, NCHW"
    refs = [(f"{plain} ({same}, as ours)", amp, channels_last)]
    if amp or channels_last:
        refs.append((f"{plain} (fp32, NCHW)", False, False))
    return refs


def ratio_line(name: str, n: int, t_ours: float, t_ref: float, ref_name: str, detail: str = "") -> str:
    """``<name>: ours X img/s vs <ref_name> Y img/s (<detail>) ratio=X/Y``."""
    ours, ref = n / t_ours, n / t_ref
    extra = f" ({detail})" if detail else ""
    return f"{name}: ours {ours:,.0f} img/s vs {ref_name} {ref:,.0f} img/s{extra} ratio={ours / ref:.2f}"


def device_line(device: torch.device) -> str:
    """``device: cpu (2 threads, <processor>)`` or ``device: cuda (<name>)``."""
    if device.type == "cuda":
        return f"device: {device} ({torch.cuda.get_device_name(device)}, torch {torch.__version__})"
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return f"device: cpu ({torch.get_num_threads()} threads, {_cpu_name()}{load}, torch {torch.__version__})"


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown processor"


def synthetic_data(n_train: int, n_test: int = 0, seed: int = 0) -> Any:
    """A FERData of synthetic 48x48 faces: exactly ``n_train`` in ``train`` and ``n_test`` in ``test``.

    Speed does not depend on image content; the synthetic domain only makes the inputs realistic.
    """
    from fer_avalanche.data.ferdata import FERData

    n = n_train + n_test
    try:
        from fer_avalanche.data.synthetic import make_domain
    except ImportError:  # the synthetic module is not there yet: random pixels time the same
        g = torch.Generator().manual_seed(seed)
        images = torch.randint(0, 256, (n, 1, 48, 48), dtype=torch.uint8, generator=g)
        labels = torch.randint(0, 7, (n,), generator=g)
    else:
        faces = make_domain("wild", n=n, seed=seed)
        images, labels = faces.images[:n], faces.labels[:n]
    split = torch.cat([torch.zeros(n_train, dtype=torch.long), torch.full((n_test,), 2, dtype=torch.long)])
    return FERData(name="bench", images=images, labels=labels, split=split)


def parser(doc: str | None) -> argparse.ArgumentParser:
    """The command line every script shares: ``--quick``, ``--device``, ``--width``, ``--smoke``."""
    p = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    p.add_argument(
        "--quick", action="store_true", help="smaller sizes (the whole suite in < 2 min on 2 cores)"
    )
    p.add_argument("--device", default="auto", help="auto | cpu | cuda[:N] (default auto)")
    p.add_argument("--width", type=int, default=16, help="model width (default 16)")
    p.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds: checks the script runs")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    return p


def parse_args(
    doc: str | None, argv: list[str] | None = None, extra: Callable[[Any], None] | None = None
) -> Any:
    """Parse the shared command line (plus ``extra(parser)`` options) and apply ``--threads``."""
    p = parser(doc)
    if extra is not None:
        extra(p)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    return args
