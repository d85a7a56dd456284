"""Shared fixtures: tiny learnable FERData made in memory, and the path to the shared real data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from fer_avalanche.data.ferdata import FERData

# One intra-op thread: the test models are tiny, and on a shared 2-core machine two threads per
# process oversubscribe the cores (measured 25x slower per training step under load).
torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
FER2013_GZ = SHARED_DATA / "fer2013" / "fer2013.csv.gz"


def tiny_fer(name: str = "tiny", n: int = 140, seed: int = 0, shift: float = 0.0, size: int = 48) -> FERData:
    """A small learnable dataset: each class is a bright square at its own place, plus noise.

    ``shift`` moves every class pattern (a crude domain shift); the split is stratified 60/20/20;
    subjects cycle over 5 ids.
    """
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 7
    images = torch.randint(0, 60, (n, 1, size, size), generator=g).float()
    step = size // 8
    for c in range(7):
        r = (c // 3) * 2 * step + step + int(shift * step)
        col = (c % 3) * 2 * step + step
        images[labels == c, :, r : r + step, col : col + step] += 150
    data = FERData(
        name=name,
        images=images.clamp(0, 255).to(torch.uint8),
        labels=labels,
        split=torch.zeros(n, dtype=torch.long),
        subjects=torch.arange(n) % 5,
    )
    return data.resplit_fractions((0.6, 0.2, 0.2), seed=seed)


@pytest.fixture
def make_fer() -> Callable[..., FERData]:
    """Factory fixture for :func:`tiny_fer`."""
    return tiny_fer


@pytest.fixture
def fer2013_gz() -> Path:
    """The shared real FER2013 file; the test is skipped when it is absent (a user's fresh machine)."""
    if not FER2013_GZ.is_file():
        pytest.skip(f"real FER2013 not found at {FER2013_GZ}")
    return FER2013_GZ
