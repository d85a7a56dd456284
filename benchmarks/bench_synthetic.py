"""Synthetic-domain generation time: ``make_domain("wild", n=10_000)``, and the lab domains.

The synthetic domains are the package's default data (the demo, the examples, most tests), so drawing
them must stay fast: the target is 10,000 ``wild`` faces in under 15 s on two CPU cores (the vectorised
renderer takes a few seconds). Each line gives the time, the images per second and ``ratio=`` target /
measured time (higher is better; above 1 meets the target). Generation runs on the CPU whatever
``--device`` says.

Run: ``python benchmarks/bench_synthetic.py [--quick] [--smoke]`` (``--smoke``: 700 images, only to
check that the script runs; ``--quick``: ``wild`` only).
"""

from __future__ import annotations

import sys
import time

from common import device_line, parse_args, resolve

#: Target seconds for 10,000 ``wild`` images (scaled linearly for other sizes).
TARGET_S_PER_10K = 15.0


def _line(name: str, n: int) -> str:
    from fer_avalanche.data.synthetic import make_domain

    start = time.perf_counter()
    data = make_domain(name, n=n, seed=2)
    seconds = time.perf_counter() - start
    if len(data) != n:
        raise RuntimeError(f"make_domain({name!r}, n={n}) gave {len(data)} images")
    target = TARGET_S_PER_10K * n / 10_000
    return (
        f"synthetic {name} ({n:,} images): {seconds:.2f} s, {n / seconds:,.0f} images/s "
        f"(target < {target:.1f} s) ratio={target / seconds:.2f}"
    )


def main(quick: bool = False, device: str = "cpu", *, width: int = 16, smoke: bool = False) -> list[str]:
    """Time the generation; returns the printed lines (``device`` and ``width`` do not matter)."""
    from fer_avalanche.data.synthetic import get_domain, list_domains

    if smoke:
        return [_line("wild", 700)]
    lines = [_line("wild", 10_000)]
    if not quick:
        lines += [_line(name, get_domain(name).default_n) for name in list_domains() if name != "wild"]
    return lines


if __name__ == "__main__":
    args = parse_args(__doc__)
    for line in main(args.quick, args.device, smoke=args.smoke):
        print(line, flush=True)
    print(device_line(resolve(args.device)))
    sys.exit(0)
