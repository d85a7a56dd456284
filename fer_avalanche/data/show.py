"""``fer-avalanche data show``: a grid of preprocessed faces per class, so users see what the network sees.

:func:`face_grid` draws a FERData as a mosaic, one row per class of its label space (``per_class``
images each, drawn with a seed), exactly as the images are stored after framing and resizing.
:func:`domains_grid` draws the synthetic domains side by side (one row per domain, a block of images
per class). :func:`save_figure` writes a figure as PNG atomically; :func:`show_dataset` loads a
dataset (or draws a synthetic domain) and saves its grid. Figures are matplotlib ``Figure`` objects
on an Agg canvas (no pyplot, no global state).

Example:
    >>> from fer_avalanche.data.show import show_dataset
    >>> show_dataset("jaffe", "~/datasets/jaffe", out="jaffe_faces.png")  # doctest: +SKIP
    PosixPath('jaffe_faces.png')
    >>> show_dataset("synthetic", "all", out="docs/synthetic_faces.png")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fer_avalanche.checks import is_int
from fer_avalanche.data.ferdata import FERData
from fer_avalanche.errors import ConfigError
from fer_avalanche.io import atomic_path

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["face_grid", "domains_grid", "save_figure", "show_dataset", "pick_per_class"]

_GAP = 2  # pixels between faces
_BLOCK_GAP = 8  # pixels between class blocks (domains grid)
_BACKGROUND = 255


def pick_per_class(data: FERData, per_class: int, seed: int = 0) -> list[np.ndarray]:
    """For each class of the label space, the indices of up to ``per_class`` samples, drawn with ``seed``.

    Example:
        >>> from fer_avalanche.data.synthetic import make_domain
        >>> [len(i) for i in pick_per_class(make_domain("lab-a", n=70), 3)]
        [3, 3, 3, 3, 3, 3, 3]
    """
    if not is_int(per_class) or per_class < 1:
        raise ConfigError(f"per_class must be an integer >= 1, got {per_class!r}")
    rng = np.random.default_rng(seed)
    labels = data.labels.numpy()
    picks = []
    for c in range(data.num_classes):
        members = np.flatnonzero(labels == c)
        chosen = rng.choice(members, min(per_class, len(members)), replace=False) if len(members) else members
        picks.append(np.sort(chosen))
    return picks


def _mosaic(rows: Sequence[Sequence[np.ndarray | None]], side: int, block: int = 0) -> np.ndarray:
    """Tiles ``side x side`` in rows; ``None`` tiles stay blank; every ``block`` columns a wider gap."""
    n_cols = max(len(r) for r in rows)
    xs = [0]
    for j in range(1, n_cols):
        xs.append(xs[-1] + side + (_BLOCK_GAP if block and j % block == 0 else _GAP))
    width = xs[-1] + side
    height = len(rows) * (side + _GAP) - _GAP
    canvas = np.full((height, width), _BACKGROUND, dtype=np.uint8)
    for i, row in enumerate(rows):
        y = i * (side + _GAP)
        for j, tile in enumerate(row):
            if tile is not None:
                canvas[y : y + side, xs[j] : xs[j] + side] = tile
    return canvas


def _figure(canvas: np.ndarray, scale: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    h, w = canvas.shape
    width, height = w * scale / 100 + 1.6, h * scale / 100 + 0.8  # inches: the mosaic plus labels
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((1.4 / width, 0.1 / height, w * scale / 100 / width, h * scale / 100 / height))
    ax.imshow(canvas, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    ax.set_xticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(length=0)
    return fig


def face_grid(data: FERData, per_class: int = 8, seed: int = 0, title: str | None = None) -> Figure:
    """A figure of ``per_class`` faces of every class (rows), as stored (after framing and resizing).

    A class without samples keeps an empty row, so a missing class shows. The default title names
    the dataset, the image size and how faces were framed.

    Example:
        >>> from fer_avalanche.data.synthetic import make_domain
        >>> fig = face_grid(make_domain("lab-b", n=140), per_class=4)
    """
    side = data.image_size[0]
    images = data.images[:, 0].numpy()
    picks = pick_per_class(data, per_class, seed)
    rows = [[images[i] for i in idx] + [None] * (per_class - len(idx)) for idx in picks]
    canvas = _mosaic(rows, side)
    fig = _figure(canvas, scale=max(1.0, 64 / side))
    ax = fig.axes[0]
    ax.set_yticks([i * (side + _GAP) + side / 2 for i in range(len(rows))])
    ax.set_yticklabels(
        [
            f"{name} ({len(idx)})" if len(idx) < per_class else name
            for name, idx in zip(data.label_space.names, picks, strict=True)
        ]
    )
    ax.set_title(title if title is not None else _describe(data), fontsize=9)
    return fig


def _describe(data: FERData) -> str:
    prov = data.provenance
    if prov.get("format") == "synthetic":
        return (
            f"{data.name}: synthetic domain (mimics {prov.get('mimics')})\n"
            f"{len(data)} images, {data.image_size[0]}x{data.image_size[1]}"
        )
    crop = (prov.get("preprocessing") or {}).get("face_crop") or prov.get("format", "")
    text = f"{data.name}: {len(data)} images, {data.image_size[0]}x{data.image_size[1]}\nface_crop={crop}"
    detection = prov.get("face_detection")
    if isinstance(detection, dict):
        text += f" ({detection.get('detected', 0)} detected, {detection.get('fallback', 0)} fallbacks)"
    return text


def domains_grid(
    domains: Sequence[str] | None = None, per_class: int = 3, seed: int = 0, image_size: int = 48
) -> Figure:
    """The synthetic domains side by side: a row per domain, a block of ``per_class`` faces per class.

    Example:
        >>> fig = domains_grid(["lab-a", "wild"], per_class=2)
    """
    from fer_avalanche.data.synthetic import get_domain, list_domains, make_domain

    names = list(domains) if domains is not None else list_domains()
    rows, labels = [], []
    space = None
    for name in names:
        style = get_domain(name)
        data = make_domain(name, n=max(400, 100 * per_class), seed=seed, image_size=image_size)
        space = data.label_space
        images = data.images[:, 0].numpy()
        row: list[np.ndarray | None] = []
        for idx in pick_per_class(data, per_class, seed):
            row += [images[i] for i in idx] + [None] * (per_class - len(idx))
        rows.append(row)
        labels.append(f"{name}\n({style.mimics})")
    canvas = _mosaic(rows, image_size, block=per_class)
    fig = _figure(canvas, scale=1.0)
    ax = fig.axes[0]
    ax.set_yticks([i * (image_size + _GAP) + image_size / 2 for i in range(len(rows))])
    ax.set_yticklabels(labels, fontsize=8)
    assert space is not None
    block = per_class * (image_size + _GAP) - _GAP + _BLOCK_GAP
    ax.set_xticks(
        [c * block + (per_class * (image_size + _GAP) - _GAP) / 2 for c in range(space.num_classes)]
    )
    ax.set_xticklabels(space.names, fontsize=8)
    ax.xaxis.tick_top()
    ax.set_title("synthetic domains (fer_avalanche.data.synthetic), per class", fontsize=9, pad=16)
    return fig


def save_figure(fig: Figure, out: str | Path) -> Path:
    """Write ``fig`` as PNG to ``out``, atomically (the old file or the new one, never half of one)."""
    out = Path(out).expanduser()
    with atomic_path(out, suffix=".tmp.png") as tmp:
        fig.savefig(tmp, format="png")
    return out


def show_dataset(
    name: str,
    root: str | Path | None,
    out: str | Path | None = None,
    per_class: int = 8,
    seed: int = 0,
    **settings: object,
) -> Path:
    """Load dataset ``name`` from ``root`` (with the loader ``settings``) and save its face grid as PNG.

    ``name = "synthetic"`` draws the synthetic domains instead: ``root`` is a domain name (``lab-a``),
    or ``"all"`` / ``None`` for every domain side by side. ``out`` defaults to ``<name>_faces.png``.

    Raises:
        ConfigError: unknown format, domain or setting.
        DatasetError: the loader's own errors.
    """
    if name == "synthetic":
        domain = str(root) if root is not None else "all"
        if domain == "all":
            fig = domains_grid(
                per_class=min(per_class, 4), seed=seed, image_size=settings.get("image_size", 48)
            )
        else:
            from fer_avalanche.data.synthetic import make_domain

            size = settings.get("image_size", 48)
            fig = face_grid(
                make_domain(domain, n=max(70, 20 * per_class), seed=seed, image_size=size), per_class, seed
            )
        default = f"synthetic_{domain}_faces.png"
    else:
        if root is None:
            raise ConfigError(f"data show {name}: give the dataset's ROOT (its folder or file)")
        from fer_avalanche.data.registry import load_dataset

        data = load_dataset(name, Path(root).expanduser(), **settings)
        fig = face_grid(data, per_class, seed)
        default = f"{name}_faces.png"
    return save_figure(fig, out if out is not None else default)
