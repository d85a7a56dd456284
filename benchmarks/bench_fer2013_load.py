"""FER2013 load times: the first load (decode the CSV, cold cache) and a cached load.

Reads ``../shared/data/fer2013/fer2013.csv.gz`` (relative to the repository's parent folder) with
``load_dataset("fer2013", path, cache_dir=<fresh temp dir>)`` twice: the first call parses the gzipped
CSV and writes the cache, the second reads the cache. The temporary cache is deleted afterwards, so no
derived FER2013 data is left anywhere. When the file is absent the script prints a ``skipped: ... not
found`` line and exits 0.

Reading the output: both times in seconds and ``ratio=`` cold / cached (how many times faster a cached
load is). Targets: cached < 1 s, cold < 20 s.

Run: ``python benchmarks/bench_fer2013_load.py [--path FILE]``
"""

from __future__ import annotations

import gzip
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import FER2013_GZ, device_line, parse_args, resolve


def _tiny_csv(path: Path, rows: int = 48) -> Path:
    """A small valid FER2013 file (random pixels) for smoke runs."""
    rng = np.random.default_rng(0)
    usages = ["Training", "PublicTest", "PrivateTest"]
    lines = ["emotion,pixels,Usage"]
    for i in range(rows):
        pixels = " ".join(map(str, rng.integers(0, 256, 48 * 48)))
        lines.append(f"{i % 7},{pixels},{usages[i * 3 // rows]}")
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return path


def main(
    quick: bool = False,
    device: str = "auto",
    *,
    width: int = 16,
    smoke: bool = False,
    path: Path | None = None,
) -> list[str]:
    """Time a cold and a cached load; returns the printed line (``quick``/``device`` do not matter)."""
    from fer_avalanche.data.registry import load_dataset

    with tempfile.TemporaryDirectory(prefix="fer-bench-") as tmp:
        if smoke and path is None:
            path = _tiny_csv(Path(tmp) / "fer2013.csv.gz")
        path = Path(path or FER2013_GZ)
        if not path.is_file():
            return [f"fer2013 load: skipped: {path} not found"]
        cache = Path(tmp) / "cache"
        start = time.perf_counter()
        cold = load_dataset("fer2013", path, cache_dir=cache, use_cache=True)
        t_cold = time.perf_counter() - start
        start = time.perf_counter()
        cached = load_dataset("fer2013", path, cache_dir=cache, use_cache=True)
        t_cached = time.perf_counter() - start
        mb = path.stat().st_size / 2**20
        if len(cached) != len(cold):
            raise RuntimeError(f"cached load has {len(cached)} samples, the first load {len(cold)}")
    return [
        f"fer2013 load ({len(cold):,} images, {mb:.1f} MB gz): cold (decode + write cache) {t_cold:.2f} s, "
        f"cached {t_cached:.3f} s (targets < 20 s, < 1 s) ratio={t_cold / t_cached:.1f}"
    ]


if __name__ == "__main__":
    args = parse_args(
        __doc__,
        extra=lambda p: p.add_argument("--path", type=Path, default=None, help=f"default {FER2013_GZ}"),
    )
    for line in main(args.quick, args.device, smoke=args.smoke, path=args.path):
        print(line, flush=True)
    print(device_line(resolve(args.device)))
    sys.exit(0)
