"""Executors: where the tasks of a run execute (``serial``, ``local``, ``dask``), with the same results.

- ``serial`` (the default): one after another in this process;
- ``local``: a :class:`dask.distributed.LocalCluster` of ``workers`` processes, one thread each, bound
  to 127.0.0.1, dashboard off;
- ``dask``: an existing Dask cluster at ``scheduler`` (``tcp://host:8786``).

An executor takes a list of calls and yields ``(index, result)`` as each finishes. Workers return
records; the client writes the run directory, so it need not be on a shared filesystem. A worker
killed in the middle of a task loses only that task, which Dask reschedules (bounded: ``retries`` and
Dask's ``allowed-failures``).

Example:
    >>> from fer_avalanche.experiment.executors import make_executor
    >>> with make_executor("serial") as ex:
    ...     sorted(ex.run([(pow, (2, 3)), (pow, (3, 2))]))
    [(0, 8), (1, 9)]
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fer_avalanche.errors import ConfigError
from fer_avalanche.registry import Registry

__all__ = ["Executor", "SerialExecutor", "DaskExecutor", "EXECUTORS", "make_executor", "Call"]

#: ``(function, args)`` or ``(function, args, kwargs)``.
Call = tuple[Any, ...]


class Executor:
    """Runs calls; yields ``(index, result)`` in the order they finish."""

    #: Whether tasks run in this process (epoch lines and step checkpoints can then be local).
    in_process = True
    #: Intra-op CPU threads each task uses (``None``: torch's default of the process).
    threads: int | None = None
    #: Whether tasks see this machine's files (then sequences save step checkpoints in the run dir).
    shared_filesystem = True

    def run(self, calls: Sequence[Call]) -> Iterator[tuple[int, Any]]:
        raise NotImplementedError

    def share(self, value: object) -> object:
        """A handle for a value several tasks receive (sent to the workers once)."""
        return value

    def close(self) -> None:
        pass

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _split(call: Call) -> tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]:
    fn, args, *rest = call
    return fn, tuple(args), dict(rest[0]) if rest else {}


class SerialExecutor(Executor):
    """Every call in this process, in order."""

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads

    def run(self, calls: Sequence[Call]) -> Iterator[tuple[int, Any]]:
        for index, call in enumerate(calls):
            fn, args, kwargs = _split(call)
            yield index, fn(*args, **kwargs)


class DaskExecutor(Executor):
    """Calls as Dask tasks on a local cluster (``workers``) or an existing one (``scheduler``).

    Args:
        workers: processes of a new local cluster (default: the CPU count).
        scheduler: address of an existing scheduler (``tcp://host:8786``); then ``workers`` is unused.
        threads: CPU threads per task (default on a local cluster: CPU count // workers).
        retries: how often a task that crashed (not a user error) is retried.
    """

    in_process = False

    def __init__(
        self,
        workers: int | None = None,
        scheduler: str | None = None,
        threads: int | None = None,
        retries: int = 2,
    ) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ConfigError(
                "the local and dask executors need Dask: pip install 'fer-avalanche[cluster]' "
                "(or pip install 'dask[distributed]')"
            ) from None
        self.retries = retries
        self.cluster = None
        if scheduler:
            self.client = Client(scheduler)
            self.threads = threads
            self.shared_filesystem = False
        else:
            n = workers or os.cpu_count() or 1
            if n < 1:
                raise ConfigError(f"--workers must be >= 1, got {n}")
            self.cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                # the scheduler always serves its health routes over HTTP: on a free port of
                # 127.0.0.1, not on 8787 (taken by another cluster, it warns and moves), no dashboard
                scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                silence_logs=logging.ERROR,
            )
            self.client = Client(self.cluster)
            self.threads = threads or max(1, (os.cpu_count() or 1) // n)

    def share(self, value: object) -> object:
        # a copy on every worker: scattered data held by one worker alone is lost with it (Dask cannot
        # recompute it), and every task needing it would fail instead of being retried
        return self.client.scatter(value, broadcast=True)

    def run(self, calls: Sequence[Call]) -> Iterator[tuple[int, Any]]:
        from dask.distributed import as_completed

        futures = {}
        for index, call in enumerate(calls):
            fn, args, kwargs = _split(call)
            future = self.client.submit(fn, *args, retries=self.retries, pure=False, **kwargs)
            futures[future] = index
        for future in as_completed(futures):
            yield futures[future], future.result()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


#: Executors by name: ``make_executor(name, workers=..., scheduler=..., threads=...)``.
EXECUTORS: Registry[Callable[..., Executor]] = Registry("executor")
EXECUTORS.add("serial", lambda workers=None, scheduler=None, threads=None: SerialExecutor(threads))
EXECUTORS.add(
    "local", lambda workers=None, scheduler=None, threads=None: DaskExecutor(workers, None, threads)
)


def _dask(workers: int | None = None, scheduler: str | None = None, threads: int | None = None) -> Executor:
    if not scheduler:
        raise ConfigError("--executor dask needs --scheduler tcp://HOST:PORT (or use --executor local)")
    return DaskExecutor(None, scheduler, threads)


EXECUTORS.add("dask", _dask)


def make_executor(
    name: str = "serial",
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    threads: int | None = None,
) -> Executor:
    """The executor ``name`` (``serial``, ``local``, ``dask``).

    Raises:
        ConfigError: unknown name, Dask missing, or ``dask`` without a scheduler address.
    """
    return EXECUTORS.get(name)(workers=workers, scheduler=scheduler, threads=threads)
