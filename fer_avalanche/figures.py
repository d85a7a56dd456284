"""Figure primitives shared by evaluation (TensorBoard images) and reporting (run-directory plots).

This module knows matplotlib and PIL and nothing about runs or results: :mod:`fer_avalanche.metrics`
uses :func:`confusion_image` for the ``FER/confusion/<dataset>`` TensorBoard images, and
:mod:`fer_avalanche.reporting` uses :func:`plot_confusion`, :func:`new_figure` and :func:`save_figure`
for the files of a run directory. Neither of those two modules imports the other.

Plots use matplotlib ``Figure`` objects directly (Agg canvas, no pyplot, no global state).

Example:
    >>> from fer_avalanche.figures import confusion_image
    >>> confusion_image([[3, 1], [0, 2]], ["happy", "sad"], title="demo").mode
    'RGB'
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fer_avalanche.io import atomic_path

if TYPE_CHECKING:
    import PIL.Image
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure


__all__ = ["new_figure", "save_figure", "plot_confusion", "confusion_image"]


def new_figure(width: float, height: float, dpi: int = 100, layout: str | None = "constrained") -> Figure:
    """A matplotlib ``Figure`` with an Agg canvas (no pyplot state).

    Example:
        >>> new_figure(3, 2).get_size_inches().tolist()
        [3.0, 2.0]
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Save a matplotlib figure as PNG, atomically.

    Example:
        >>> save_figure(plot_confusion([[1, 0], [0, 1]], ["a", "b"]), "/tmp/cm.png")  # doctest: +SKIP
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path


def plot_confusion(
    confusion: np.ndarray | Sequence[Sequence[int]],
    label_names: Sequence[str],
    *,
    title: str = "",
    normalize: bool = True,
    ax: Axes | None = None,
    path: str | Path | None = None,
) -> Figure | SubFigure:
    """Confusion-matrix heatmap (rows = true class, columns = predicted), counts annotated.

    Colours are row-normalised (recall) when ``normalize``. Draws into ``ax`` if given, else into a new
    small ``Figure``; saves it to ``path`` (atomically) if given. Returns the ``Figure``.

    Example:
        >>> fig = plot_confusion([[5, 1], [2, 4]], ["happy", "sad"], title="demo")
        >>> fig.axes[0].get_title()
        'demo'
    """
    cm = np.asarray(confusion, dtype=np.int64)
    if ax is None:
        fig = new_figure(3.4, 3.1, layout=None)  # fixed margins: constrained layout costs ~2x the time
        fig.subplots_adjust(left=0.24, bottom=0.25, right=0.97, top=0.9)
        ax = fig.add_subplot()
    fig = ax.figure
    rows = cm.sum(axis=1, keepdims=True)
    shown = np.divide(cm, np.maximum(rows, 1)) if normalize else cm
    ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else max(int(cm.max()), 1))
    c = cm.shape[0]
    names = [str(n)[:7] for n in label_names][:c] + [str(i) for i in range(len(label_names), c)]
    ax.set_xticks(range(c), names, rotation=60, ha="right", fontsize=6)
    ax.set_yticks(range(c), names, fontsize=6)
    ax.set_xlabel("predicted", fontsize=7)
    ax.set_ylabel("true", fontsize=7)
    threshold = 0.5 * (1 if normalize else max(int(cm.max()), 1))
    if c <= 12:
        for i in range(c):
            for j in range(c):
                if cm[i, j]:
                    color = "white" if shown[i, j] > threshold else "black"
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=5, color=color)
    if title:
        ax.set_title(title, fontsize=7)
    if path is not None:
        save_figure(fig, path)
    return fig


def confusion_image(
    confusion: np.ndarray | Sequence[Sequence[int]], label_names: Sequence[str], title: str = ""
) -> PIL.Image.Image:
    """The :func:`plot_confusion` figure as an RGB ``PIL.Image`` (what Avalanche's TensorBoard logger logs).

    Example:
        >>> confusion_image([[1, 0], [0, 1]], ["a", "b"]).mode
        'RGB'
    """
    from PIL import Image

    fig = plot_confusion(confusion, label_names, title=title)
    fig.set_dpi(80)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    buf.seek(0)
    with Image.open(buf) as img:
        return img.convert("RGB")
