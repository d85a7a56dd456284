"""Coverage of the 95% intervals of a run's summaries: simulated runs with a known truth, per method.

Not a speed benchmark: it decides which interval ``fer_avalanche.stats`` reports (issue 20; the table
is in ``docs/protocol.md``). Each simulated run has ``k`` units (seeds) of one baseline and three
adapted models (``A``, ``B`` and ``C``), scored on a PrivateTest-sized source test set (3,573 images,
the same images for every seed, as FER2013's official split) and a small target test set (67 images,
drawn anew for every seed, as ``split.seed = "run"`` does). Models differ from seed to seed by a
*unit SD* (0.005-0.05 in accuracy: the training noise the test images cannot show), and per image
by a latent ease shared by every model and seed (``P(right) = Phi(a + 1.5 * ease)``), with the adapted
models' errors correlated with their baseline's (so pairing matters). Truth = the expected value over
seeds of each quantity on the whole population of images:

- ``MI``: memory integrity of A (source acc A / baseline, about 0.90);
- ``target gain``: target acc A - baseline (about +0.50);
- ``diff target``: target acc A - B (a two-strategy difference, about +0.05);
- ``diff MI``: MI of A - MI of B;
- ``ceiling acc``: target acc of C at 0.985 (67/67 right a third of the time: the boundary).

Methods (each with 1, 3, 5 and 10 units):

- ``before``: what ``stats`` did before issue 20: the percentile bootstrap of each unit's test images
  (``stats.bootstrap_accuracies``' resampling, a draw per unit), and over units the two-level
  bootstrap (units, then one of each drawn unit's image draws: a verbatim vectorised copy of the old
  ``stats._two_level``);
- ``t units``: a t-interval over the units' estimates alone (one unit: the image percentile interval);
- ``t + images sum``: the t-interval with the image-level variance always added,
  ``V = s^2 + v`` (and the boundary floors);
- ``t + images``: ``V = s^2 + v`` where the units share one test set (the source), ``max(s^2, v)``
  where each has its own (the target), and the boundary floors: exactly ``stats``' implementation
  (``_cell_ci`` for one unit, ``_units_ci`` for several): **chosen**;
- ``boot-t units``: a studentized bootstrap over units (one unit: the image percentile interval).

Prints one line per (quantity, unit SD, method) with the coverage at each unit count, then the least
coverage over quantities and SDs per method, and the mean width at 5 units. Target: >= 0.93 at
5 units for every quantity. ``--quick``: 300 simulated runs per setting and 300 bootstrap draws (about
a minute on one core); the default 1,000 and 1,000 (a few minutes); ``--smoke``: seconds.

Run: ``python benchmarks/bench_coverage.py [--quick] [--smoke] [--seed N]``
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fer_avalanche.stats import (  # noqa: E402
    _cell_ci,
    _Estimate,
    _floor_sd,
    _units_ci,
    _weights,
    t_quantile,
)

N_SOURCE, N_TARGET = 3573, 67
UNITS = (1, 3, 5, 10)
SDS = (0.005, 0.01, 0.02, 0.05)
EASE = 1.5  # weight of the per-image ease shared by every model and seed
COUPLING = 0.8  # correlation of an adapted model's per-image noise with its baseline's
#: mean accuracy of each model on each test set
SOURCE = {"base": 0.65, "A": 0.585, "B": 0.60}
TARGET = {"base": 0.35, "A": 0.85, "B": 0.80, "C": 0.985}
QUANTITIES = ("MI", "target gain", "diff target", "diff MI", "ceiling acc")
METHODS = ("before", "t units", "t + images sum", "t + images", "boot-t units")
CHOSEN = "t + images"
#: the quantities whose units share one test set (the source's)
SHARED = ("MI", "diff MI")
TARGET_COVERAGE = 0.93


def _phi(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.vectorize(math.erf, otypes=[np.float64])(np.asarray(x) / math.sqrt(2.0)))


def _phi_inv(q: float) -> float:
    return math.copysign(t_quantile(max(q, 1 - q), math.inf), q - 0.5) if q != 0.5 else 0.0


def _latent(acc: float, sd: float) -> tuple[float, float]:
    """Mean and seed SD of the latent ``a`` for a model of mean accuracy ``acc``, seed SD ``sd``."""
    s = math.sqrt(1 + EASE**2)
    alpha = s * _phi_inv(acc)
    density = math.exp(-0.5 * (alpha / s) ** 2) / math.sqrt(2 * math.pi)
    return alpha, sd * s / density


def _sds(sd: float) -> dict[str, float]:
    """Seed SD per model: the baseline half the adapted models'; C capped (it sits at the ceiling)."""
    return {"base": sd / 2, "A": sd, "B": sd, "C": min(sd, 0.005)}


def truth(sd: float) -> dict[str, float]:
    """Expected value over seeds of each quantity on the population of images (Gauss-Hermite over the
    models' independent seed latents: exact to many digits)."""
    s, sds = math.sqrt(1 + EASE**2), _sds(sd)
    nodes, weights = np.polynomial.hermite_e.hermegauss(64)
    weights = weights / weights.sum()

    def acc(model: str, means: dict[str, float]) -> np.ndarray:  # at every node
        alpha, sigma = _latent(means[model], sds[model])
        return _phi((alpha + sigma * nodes) / s)

    src = {m: acc(m, SOURCE) for m in SOURCE}
    tgt = {m: acc(m, TARGET) for m in TARGET}

    def mean(values: np.ndarray) -> float:
        return float(values @ weights)

    inv_base = mean(1.0 / src["base"])  # MI = A / base with independent seed latents
    return {
        "MI": mean(src["A"]) * inv_base,
        "target gain": mean(tgt["A"]) - mean(tgt["base"]),
        "diff target": mean(tgt["A"]) - mean(tgt["B"]),
        "diff MI": (mean(src["A"]) - mean(src["B"])) * inv_base,
        "ceiling acc": mean(tgt["C"]),
    }


def _simulate(
    means: dict[str, float], sd: float, runs: int, units: int, n: int, shared: bool, rng: np.random.Generator
) -> np.ndarray:
    """``[runs, units, models, n]`` booleans: model (in ``means`` order, baseline first) right on image."""
    sds = _sds(sd)
    ease = rng.standard_normal((runs, 1 if shared else units, 1, n))
    noise_base = rng.standard_normal((runs, units, 1, n))
    out = []
    for model, acc in means.items():
        alpha, sigma = _latent(acc, sds[model])
        a = alpha + sigma * rng.standard_normal((runs, units, 1, 1))
        noise = noise_base
        if model != "base":
            noise = COUPLING * noise_base + math.sqrt(1 - COUPLING**2) * rng.standard_normal(noise_base.shape)
        out.append(a + EASE * ease + noise > 0)
    return np.concatenate(out, axis=2)


def _draws(correct: np.ndarray, weights: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Points ``[runs, units, models]`` and bootstrap draws ``[runs, units, models, B]``, each unit with
    its own resampling weights (the same for every run: the runs are independent data)."""
    runs, units, models, n = correct.shape
    points = correct.mean(axis=-1)
    draws = np.empty((runs, units, models, weights[0].shape[0]))
    for u in range(units):
        flat = correct[:, u].reshape(runs * models, n).astype(np.float32)
        draws[:, u] = (weights[u] @ flat.T).T.reshape(runs, models, -1) / n
    return points, draws


def _quantities(src: tuple[np.ndarray, np.ndarray], tgt: tuple[np.ndarray, np.ndarray]) -> dict[str, tuple]:
    """``{quantity: (points [runs, units], draws [runs, units, B], kind, floor SD [runs, units], n)}``."""
    (sp, sd_), (tp, td) = src, tgt  # models: source base, A, B; target base, A, B, C
    with np.errstate(divide="ignore", invalid="ignore"):
        mi_a, mi_b = sp[..., 1] / sp[..., 0], sp[..., 2] / sp[..., 0]
        mi_a_d, mi_b_d = sd_[..., 1, :] / sd_[..., 0, :], sd_[..., 2, :] / sd_[..., 0, :]
    mi_floor = _floor_sd(N_SOURCE) / sp[..., 0]
    t_floor = np.full_like(tp[..., 0], _floor_sd(N_TARGET))
    return {
        "MI": (mi_a, mi_a_d, "ratio", mi_floor, N_SOURCE),
        "target gain": (tp[..., 1] - tp[..., 0], td[..., 1, :] - td[..., 0, :], "diff", t_floor, N_TARGET),
        "diff target": (tp[..., 1] - tp[..., 2], td[..., 1, :] - td[..., 2, :], "diff", t_floor, N_TARGET),
        "diff MI": (mi_a - mi_b, mi_a_d - mi_b_d, "ratio-diff", mi_floor, N_SOURCE),
        "ceiling acc": (tp[..., 3], td[..., 3, :], "acc", t_floor, N_TARGET),
    }  # fmt: skip


def _before(draws: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The old ``stats._two_level`` (vectorised over runs) and its percentile interval."""
    runs, _, n_boot = draws.shape
    if k == 1:
        values = draws[:, 0]
    else:
        ku = rng.integers(0, k, size=(runs, n_boot, k))
        kb = rng.integers(0, n_boot, size=(runs, n_boot, k))
        values = draws[np.arange(runs)[:, None, None], ku, kb].mean(axis=2)
    lo, hi = np.percentile(values, [2.5, 97.5], axis=1)
    return lo, hi


def _t_units(points: np.ndarray, draws: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    if k == 1:
        lo, hi = np.percentile(draws[:, 0], [2.5, 97.5], axis=1)
        return lo, hi
    half = t_quantile(0.975, k - 1) * points[:, :k].std(axis=1, ddof=1) / math.sqrt(k)
    mean = points[:, :k].mean(axis=1)
    return mean - half, mean + half


def _boot_t(points: np.ndarray, draws: np.ndarray, k: int, rng: np.random.Generator) -> tuple:
    if k == 1:
        return _t_units(points, draws, 1)
    x = points[:, :k]
    runs = x.shape[0]
    idx = rng.integers(0, k, size=(runs, 400, k))
    xs = x[np.arange(runs)[:, None, None], idx]
    mean, se = x.mean(axis=1), x.std(axis=1, ddof=1) / math.sqrt(k)
    with np.errstate(divide="ignore", invalid="ignore"):
        tstar = (xs.mean(axis=2) - mean[:, None]) / (xs.std(axis=2, ddof=1) / math.sqrt(k))
    tstar = np.clip(np.where(np.isnan(tstar), 0.0, tstar), -1e6, 1e6)  # a resample of one unit: +-inf
    q_lo, q_hi = np.quantile(tstar, [0.025, 0.975], axis=1)
    return mean - q_hi * se, mean - q_lo * se


def _chosen(
    points: np.ndarray, draws: np.ndarray, kind: str, floor: np.ndarray, n: int, k: int, shared: bool
) -> tuple:
    """``stats``' own intervals, one simulated run at a time (``shared``: one test set for every unit)."""
    lo, hi = np.empty(len(points)), np.empty(len(points))
    for r in range(len(points)):
        ests = [
            _Estimate(float(points[r, u]), draws[r, u], n, kind, float(floor[r, u]), 0 if shared else u)
            for u in range(k)
        ]
        ci = _cell_ci(ests[0]) if k == 1 else _units_ci(ests)
        lo[r], hi[r] = ci if ci is not None else (math.nan, math.nan)
    return lo, hi


def run(runs: int, n_boot: int, seed: int, sds: Sequence[float] = SDS) -> dict:
    """Coverage ``{(quantity, sd, method, k): fraction}`` and mean widths ``{(quantity, sd, method, k)}``."""
    rng = np.random.default_rng(seed)
    kmax = max(UNITS)
    w_src = [_weights(N_SOURCE, n_boot, np.random.default_rng([seed, 1, u])) for u in range(kmax)]
    w_tgt = [_weights(N_TARGET, n_boot, np.random.default_rng([seed, 2, u])) for u in range(kmax)]
    cover: dict = {}
    width: dict = {}
    chunk = 100
    for sd in sds:
        true = truth(sd)
        hits: dict = {}
        widths: dict = {}
        for start in range(0, runs, chunk):
            m = min(chunk, runs - start)
            src = _draws(_simulate(SOURCE, sd, m, kmax, N_SOURCE, True, rng), w_src)
            tgt = _draws(_simulate(TARGET, sd, m, kmax, N_TARGET, False, rng), w_tgt)
            for q, (points, draws, kind, floor, n) in _quantities(src, tgt).items():
                for k in UNITS:
                    got = {
                        "before": _before(draws, k, rng),
                        "t units": _t_units(points, draws, k),
                        "t + images sum": _chosen(points, draws, kind, floor, n, k, True),
                        "t + images": _chosen(points, draws, kind, floor, n, k, q in SHARED),
                        "boot-t units": _boot_t(points, draws, k, rng),
                    }
                    for method, (lo, hi) in got.items():
                        key = (q, sd, method, k)
                        ok = (lo <= true[q]) & (true[q] <= hi)
                        hits[key] = hits.get(key, 0) + int(ok.sum())
                        widths[key] = widths.get(key, 0.0) + float(np.nansum(np.minimum(hi - lo, 10.0)))
        for key, h in hits.items():
            cover[key] = h / runs
            width[key] = widths[key] / runs
    return {"cover": cover, "width": width}


def lines(result: dict, sds: Sequence[float] = SDS) -> list[str]:
    """The printed table: per (quantity, unit SD, method) the coverage at 1, 3, 5 and 10 units."""
    cover, width = result["cover"], result["width"]
    head = f"{'quantity':<12} {'unit SD':>7}  {'method':<15}" + "".join(
        f" {f'{k} unit' + 's' * (k > 1):>8}" for k in UNITS
    )
    out = [head]
    for q in QUANTITIES:
        for sd in sds:
            for method in METHODS:
                cells = "".join(f" {cover[(q, sd, method, k)]:>8.3f}" for k in UNITS)
                out.append(f"{q:<12} {sd:>7.3f}  {method:<15}{cells}")
    out.append("")
    out.append(f"least coverage over quantities and unit SDs (target >= {TARGET_COVERAGE} at 5 units):")
    out.append(head.replace(f"{'quantity':<12} {'unit SD':>7}", " " * 20))
    for method in METHODS:
        cells = "".join(
            f" {min(cover[(q, sd, method, k)] for q in QUANTITIES for sd in sds):>8.3f}" for k in UNITS
        )
        out.append(f"{'':<20}  {method:<15}{cells}")
    out.append("")
    out.append("mean width at 5 units, relative to the chosen method's (1.00):")
    for method in METHODS:
        rel = np.mean(
            [width[(q, sd, method, 5)] / width[(q, sd, CHOSEN, 5)] for q in QUANTITIES for sd in sds]
        )
        out.append(f"{'':<20}  {method:<15} {rel:>8.2f}")
    least = min(cover[(q, sd, CHOSEN, 5)] for q in QUANTITIES for sd in sds)
    verdict = "meets" if least >= TARGET_COVERAGE else "MISSES"
    out.append(
        f"chosen: {CHOSEN}: least coverage at 5 units {least:.3f} ({verdict} the target {TARGET_COVERAGE})"
    )
    return out


def main(
    quick: bool = False, device: str = "cpu", *, width: int = 16, smoke: bool = False, seed: int = 0
) -> list[str]:
    """Simulate and return the printed lines (``device`` and ``width`` do not matter: numpy only)."""
    runs, n_boot = (40, 100) if smoke else (300, 300) if quick else (1000, 1000)
    start = time.perf_counter()
    out = lines(run(runs, n_boot, seed))
    out.append(
        f"{runs} simulated runs per setting, {n_boot} bootstrap draws, {time.perf_counter() - start:.0f} s"
    )
    return out


if __name__ == "__main__":
    import argparse

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="300 runs per setting, 300 draws (about a minute)")
    p.add_argument("--smoke", action="store_true", help="tiny sizes: checks the script runs")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    for line in main(args.quick, smoke=args.smoke, seed=args.seed):
        print(line, flush=True)
    sys.exit(0)
