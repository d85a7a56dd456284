"""A testing hook: kill this process at a known point of a run, so kill-and-resume tests never race.

Off unless the environment variable ``FER_AVALANCHE_FAULT`` is set (a user never sets it). Its value is
``EVENT:N``: the process SIGKILLs itself (no cleanup, no ``finally``, like a power cut) right after it
reaches ``EVENT`` for the ``N``-th time, counted in this process. The events:

- ``after-cell``: a ``cells/<cell>.json`` was written (atomically) by :meth:`RunStore.write_cell`;
- ``after-checkpoint``: a sequence's step checkpoint was written (atomically) after a step;
- ``start-cell``: a process (the run's, or a Dask worker) starts computing a cell.

With ``FER_AVALANCHE_FAULT_ONCE=PATH`` as well, the fault fires at most once over all processes: the
first process to get there creates ``PATH`` (exclusively; it holds that process's id) and dies; every
other process, and a retried task, finds ``PATH`` and goes on. That is how a test kills exactly one
Dask worker and lets the retry finish.

Example:
    >>> import os
    >>> from fer_avalanche.experiment import faults
    >>> "FER_AVALANCHE_FAULT" in os.environ
    False
    >>> faults.reached("after-cell")  # unset: does nothing
    >>> faults.parse("after-cell:2")
    ('after-cell', 2)
"""

from __future__ import annotations

import os
import signal
from collections import Counter

__all__ = ["ENV", "ONCE_ENV", "EVENTS", "parse", "reached"]

#: The environment variable that turns a fault on (``EVENT:N``).
ENV = "FER_AVALANCHE_FAULT"
#: The marker file that makes the fault fire once over all processes.
ONCE_ENV = "FER_AVALANCHE_FAULT_ONCE"
#: The points a fault can be planted at.
EVENTS = ("after-cell", "after-checkpoint", "start-cell")

_COUNTS: Counter[str] = Counter()


def parse(value: str) -> tuple[str, int]:
    """``"EVENT:N"`` as ``(event, n)``.

    Raises:
        ValueError: an unknown event or a count that is not a positive integer.

    Example:
        >>> parse("start-cell:1")
        ('start-cell', 1)
    """
    event, _, count = value.partition(":")
    if event not in EVENTS or not count.isdigit() or int(count) < 1:
        raise ValueError(f"{ENV}={value!r}: expected EVENT:N with EVENT one of {', '.join(EVENTS)}, N >= 1")
    return event, int(count)


def reached(event: str) -> None:
    """Count ``event`` in this process; SIGKILL the process when ``FER_AVALANCHE_FAULT`` says so."""
    value = os.environ.get(ENV)
    if not value:
        return
    wanted, count = parse(value)
    if event != wanted:
        return
    _COUNTS[event] += 1
    if _COUNTS[event] != count:
        return
    once = os.environ.get(ONCE_ENV)
    if once:
        try:
            fd = os.open(once, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return  # another process (or this task's earlier try) took the fault already
        os.write(fd, str(os.getpid()).encode())
        os.fsync(fd)
        os.close(fd)
    os.kill(os.getpid(), signal.SIGKILL)
