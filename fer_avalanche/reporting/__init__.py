"""Tables and plots of a run: ``results.json/.csv/.md``, the trade-off plot, forgetting curves, accuracy
matrices and confusion matrices, all written atomically (:mod:`fer_avalanche.io`).

Input is the run's :class:`~fer_avalanche.results.Results` (the typed model of ``results.json``; a
results dict is read into one): ``source``, ``datasets``, ``baselines`` (one per unit = (seed, fold)),
``baseline`` (means), ``rows`` (one per cell: strategy x target x seed x fold), ``sequences`` (accuracy
matrices) and, after :func:`fer_avalanche.stats.add_intervals`, each row's ``ci`` and the
per-(strategy, target) ``summary``. Tables and plots are drawn from ``summary``; when a run has none
(made before intervals existed), it is computed on the fly (rows without per-sample predictions get no
interval).

- :mod:`fer_avalanche.reporting.tables`: ``results.md`` (:func:`markdown_report`), ``results.csv``
  (:func:`results_csv_rows`), :func:`format_comparison`;
- :mod:`fer_avalanche.reporting.plots`: every plot (:func:`render_plots`);
- here: the files (:func:`write_results`, :func:`load_results`, :func:`render_report`).

Accuracies are fractions; tables show percentages (1 decimal), memory integrity with 3 decimals, and
each number as ``value [low, high]`` with its 95% bootstrap interval.

Files written into the run directory by :func:`write_results` (and re-rendered from ``results.json``
by :func:`render_report`, the CLI's ``fer-avalanche report RUN_DIR``): ``results.json``,
``results.csv``, ``results.md``, ``tradeoff.png``, ``accuracy_matrix.png``, ``curves_<target>.png``
(when rows have forgetting curves) and ``confusion/*.png`` (baseline per dataset; source and target per
row of the first unit). :func:`format_comparison` renders :func:`fer_avalanche.stats.compare`
(``fer-avalanche report RUN_DIR --compare A B``).

Example:
    >>> from fer_avalanche.reporting import render_report
    >>> for path in render_report("runs/demo"):  # doctest: +SKIP
    ...     print(path)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from fer_avalanche.figures import confusion_image, plot_confusion, save_figure
from fer_avalanche.io import atomic_write_text
from fer_avalanche.reporting.plots import (
    alpha_curve_points,
    plot_accuracy_matrix,
    plot_curves,
    plot_tradeoff,
    render_plots,
    tradeoff_figure,
)
from fer_avalanche.reporting.tables import (
    FRONT_MARK,
    IMAGES_MARK,
    LEGEND,
    SEQ_LEGEND,
    csv_text,
    format_comparison,
    markdown_report,
    results_csv_rows,
)
from fer_avalanche.results import JSON, ReportError, Results, as_results, read_results

__all__ = [
    "ReportError",
    "write_results",
    "render_report",
    "load_results",
    "ensure_intervals",
    "results_csv_rows",
    "csv_text",
    "markdown_report",
    "format_comparison",
    "render_plots",
    "plot_tradeoff",
    "tradeoff_figure",
    "alpha_curve_points",
    "plot_curves",
    "plot_accuracy_matrix",
    "plot_confusion",
    "confusion_image",
    "save_figure",
    "LEGEND",
    "SEQ_LEGEND",
    "FRONT_MARK",
    "IMAGES_MARK",
]


def ensure_intervals(results: Results | Mapping[str, JSON], n_boot: int = 1000) -> Results:
    """``results`` itself when it has its ``summary`` and row intervals, else a copy with
    :func:`fer_avalanche.stats.add_intervals` (within each variant of a sweep); also when its summary
    lacks ``ci_scope`` (intervals of the two-level bootstrap used before issue 20, recomputed).

    Example:
        >>> r = ensure_intervals({"source": "s", "baseline": {"acc": {"s": 0.9}}, "rows": []})
        >>> r.summary
        []
    """
    return as_results(results).with_intervals(n_boot)


def write_results(
    run_dir: str | Path,
    results: Results | Mapping[str, JSON],
    *,
    write_json_file: bool = True,
    confusion_plots: bool = True,
    n_boot: int = 1000,
) -> list[Path]:
    """Write ``results.json`` (:meth:`Results.write <fer_avalanche.results.Results.write>`),
    ``results.csv``, ``results.md`` and every plot (:func:`render_plots`).

    Intervals and the ``summary`` are computed first (:func:`ensure_intervals`, ``n_boot`` draws) when
    ``results`` has none, and are then part of ``results.json``. Non-finite floats become ``null`` in
    ``results.json`` (strict JSON). ``confusion_plots=False`` skips ``confusion/*.png`` (about 0.1 s
    each). Returns the paths written.

    Raises:
        ReportError: ``results`` (a dict) lacks the keys the tables need.

    Example:
        >>> paths = write_results("runs/demo", run.results)  # doctest: +SKIP
    """
    run_dir = Path(run_dir)
    done = ensure_intervals(results, n_boot=n_boot)
    written: list[Path] = []
    if write_json_file:
        written.append(done.write(run_dir / "results.json"))
    atomic_write_text(run_dir / "results.csv", csv_text(done))
    atomic_write_text(run_dir / "results.md", markdown_report(done))
    written += [run_dir / "results.csv", run_dir / "results.md"]
    written += render_plots(done, run_dir, confusion_plots=confusion_plots)
    return written


def load_results(run_dir: str | Path) -> Results:
    """Read and check ``RUN_DIR/results.json`` (or a path to the file itself):
    :func:`fer_avalanche.results.read_results`.

    Raises:
        ReportError: the file is missing, not valid JSON, or not a results file (the message names it).

    Example:
        >>> load_results("runs/demo").mode  # doctest: +SKIP
        'pairwise'
    """
    return read_results(run_dir)


def render_report(run_dir: str | Path, *, confusion_plots: bool = True, n_boot: int = 1000) -> list[Path]:
    """Re-render ``results.csv``, ``results.md`` and every plot from ``RUN_DIR/results.json``.

    Intervals missing from the file (a run made before they existed, or before ``ci_scope``) are
    recomputed in memory (``n_boot`` draws); ``results.json`` itself is left untouched. Returns the
    paths written.

    Raises:
        ReportError: ``results.json`` is missing or corrupt (the message names the file).

    Example:
        >>> render_report("runs/demo")  # doctest: +SKIP
        [PosixPath('runs/demo/results.csv'), PosixPath('runs/demo/results.md'), ...]
    """
    path = Path(run_dir)
    results = load_results(path)
    out_dir = path if path.is_dir() else path.parent
    return write_results(
        out_dir, results, write_json_file=False, confusion_plots=confusion_plots, n_boot=n_boot
    )
