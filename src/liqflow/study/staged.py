"""A study begun before its alt basket is known: :func:`begin_study` -> :class:`StagedStudy`.

The alt basket is the one input of the default chain that reads the crypto universe,
which takes a caller (the report) some tenths of a second to read after the panel. A
staged study starts the tests that do not read the basket on the rest of the inputs at
once, and the others when :meth:`StagedStudy.complete` hands over the whole inputs. The
jobs, their random streams and the assembly are those of :func:`liqflow.study.run_study`
(:func:`liqflow.study.run._compute`), so the evidence is the same: only when each test
starts differs, and where it runs (threads of the caller's process, or of a forked child
process on Linux, see :func:`begin_study`).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import fields, replace
from functools import partial
from typing import Protocol, cast

from liqflow._cache import cache_read, cache_write, in_background
from liqflow._errors import ConfigError
from liqflow._fork import Worker, fork_worker, forking_works, receive, send
from liqflow.store import Store
from liqflow.study.defaults import DEFAULT_DRAWS
from liqflow.study.evidence import Evidence
from liqflow.study.inputs import StudyInputs
from liqflow.study.run import _check_draws, _check_levels, _check_workers, _checked, _compute

__all__ = ["StagedStudy", "begin_study"]

_Params = tuple[int, int, float, float]


class _Abandoned(Exception):
    """The inputs of an abandoned staged study (:meth:`StagedStudy.abandon`)."""


class _Run(Protocol):
    def hand_over(self, inputs: StudyInputs) -> None: ...
    def abandon(self) -> None: ...
    def result(self) -> Evidence: ...


class _OnThreads:
    """The jobs on threads of this process; the whole inputs handed over in a future."""

    def __init__(
        self,
        early: StudyInputs,
        params: _Params,
        workers: int,
    ) -> None:
        self._full: Future[StudyInputs] = Future()
        self._stop = threading.Event()
        compute = partial(
            _compute, early, *params, workers, full=self._full.result, stop=self._stop
        )
        self._result = in_background("study", compute)

    def hand_over(self, inputs: StudyInputs) -> None:
        self._full.set_result(inputs)

    def abandon(self) -> None:
        self._stop.set()
        if not self._full.done():
            self._full.set_exception(_Abandoned("the staged study was abandoned"))

    def result(self) -> Evidence:
        return self._result()


#: The fields of :class:`StudyInputs` that are mappings: what changes of them is sent.
_MAPPINGS = ("series", "sources")


def _added(early: StudyInputs, whole: StudyInputs) -> dict[str, object]:
    """What ``whole`` changes of ``early`` (the fields that are not the same objects; of
    ``series`` and ``sources``, the new or changed entries, and the order of the keys)."""
    out: dict[str, object] = {}
    for f in fields(whole):
        value = getattr(whole, f.name)
        if value is not getattr(early, f.name):
            out[f.name] = value
    for name in _MAPPINGS:
        if name in out:
            before, after = getattr(early, name), getattr(whole, name)
            new = {k: v for k, v in after.items() if before.get(k) is not v}
            out[name] = (list(after), new)
    return out


def _rebuilt(early: StudyInputs, added: dict[str, object]) -> StudyInputs:
    """The inverse of :func:`_added`: ``early`` with what was added."""
    changes = dict(added)
    for name in _MAPPINGS:
        if name in changes:
            order, new = cast("tuple[list[str], dict[str, object]]", changes[name])
            before = getattr(early, name)
            changes[name] = {k: new[k] if k in new else before[k] for k in order}
    return replace(early, **changes)  # type: ignore[arg-type]


def _received(early: StudyInputs, fd: int) -> StudyInputs:  # pragma: no cover - in the child
    """The whole inputs, from what the parent sends to the pipe ``fd``."""
    try:
        _, added = receive(fd)
    finally:
        os.close(fd)
    return _rebuilt(early, cast("dict[str, object]", added))


class _InChild:
    """The jobs in a forked child process (:func:`liqflow._fork.fork_worker`), on
    threads of its own: the caller's thread and the tests then hold two GILs, not one.

    The whole inputs reach the child through a pipe as what they add to the early ones
    (:func:`_added`: the alt basket's series and counts, some hundred kB), read there by
    a thread as soon as they are sent, so the sender never waits for a test to end. The
    evidence comes back pickled; a thread of the caller's reads it as soon as it is
    sent, so the caller finds it read when it asks. A child that dies is a
    :class:`~liqflow._fork.WorkerError` from :meth:`result`; an abandoned run kills it;
    the child never touches the store.
    """

    def __init__(
        self,
        early: StudyInputs,
        params: _Params,
        workers: int,
    ) -> None:
        self._early = early
        read_fd, write_fd = os.pipe()

        def work() -> Iterator[object]:  # pragma: no cover - runs in the child
            os.close(write_fd)
            full = in_background("study-inputs", partial(_received, early, read_fd))
            yield _compute(early, *params, workers, full=full)

        try:
            self._worker: Worker[object] = fork_worker(work, "running the tests", owner="study")
        except BaseException:
            os.close(write_fd)
            raise
        finally:
            os.close(read_fd)
        self._fd = write_fd
        self._values = in_background(
            "study-results", lambda: cast("Evidence", self._worker.receive())
        )

    def hand_over(self, inputs: StudyInputs) -> None:
        try:
            send(self._fd, 0, _added(self._early, inputs))
        except BrokenPipeError:  # the child has ended: result() says how
            pass
        finally:
            self._close()

    def abandon(self) -> None:
        self._worker.kill()  # the reading thread then meets the end of the pipe
        with contextlib.suppress(BaseException):
            self._values()
        self._worker.stop()
        self._close()

    def result(self) -> Evidence:
        try:
            return self._values()
        finally:
            self.abandon()

    def _close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class StagedStudy:
    """A study begun before its alt basket is known (:func:`begin_study`).

    Its tests that do not read the alt basket run meanwhile; :meth:`complete` gives the
    whole inputs and returns the function that waits for ``(evidence, cached)``;
    :meth:`abandon` gives up (the jobs not yet begun are skipped, a child process is
    stopped). Every test draws from the same stream as in :func:`run_study`, so the
    evidence is the same as ``run_study(complete inputs)``: only the tests' start differs.
    """

    def __init__(self, run: _Run, params: _Params, store: Store | None) -> None:
        self._run, self._params, self._store = run, params, store

    def abandon(self) -> None:
        """Skip the jobs not yet begun; the tests of the alt basket see no inputs."""
        self._run.abandon()

    def complete(self, inputs: StudyInputs) -> Callable[[], tuple[Evidence, bool]]:
        """Hand over the whole inputs (those of :func:`liqflow.study.study_inputs`).

        The parameters are checked against them and the cache is read on the calling
        thread; on a hit the run is abandoned and the cached evidence returned. The
        waiting function writes the cache, again on the calling thread.

        Raises
        ------
        ConfigError
            Too few draws for Holm over the tests these inputs support (the run is
            abandoned).
        """
        seed, draws, alpha, conf = self._params
        key = None
        try:
            if self._store is None:  # the key hashes every input: only for the cache
                _check_draws(inputs, seed, draws, alpha, conf)
            else:
                key = _checked(inputs, seed, draws, alpha, conf)
                stored, hit = cache_read(self._store, key)
                if hit:
                    self.abandon()
                    return lambda: (cast("Evidence", stored), True)
        except BaseException:
            self.abandon()
            raise
        self._run.hand_over(inputs)
        store = self._store

        def wait() -> tuple[Evidence, bool]:
            value = self._run.result()
            if store is not None and key is not None:
                cache_write(store, key, value)
            return value, False

        return wait


def begin_study(
    early: StudyInputs,
    *,
    seed: int = 0,
    draws: int = DEFAULT_DRAWS,
    alpha: float = 0.05,
    confidence: float = 0.90,
    store: Store | None = None,
    use_cache: bool = True,
    workers: int | None = None,
    process: bool | None = None,
) -> StagedStudy:
    """:func:`~liqflow.study.run_study` begun in the background on the inputs known
    before the alt basket (:func:`liqflow.study.inputs.inputs_before_alts`), so the tests that do not read it
    run while the caller reads the crypto universe; :meth:`StagedStudy.complete` with
    the whole inputs (:func:`~liqflow.study.inputs.with_alt_basket`) then reads the
    cache and lets the others run.

    ``process``: run the tests in a forked child process (``True``), on threads of this
    one (``False``), or the first where forking is safe, Linux, and ``workers`` is more
    than one (``None``, the default). A child's tests do not compete with the caller's
    thread for this process's GIL: the report builds its other parts meanwhile at full
    speed. The evidence is the same either way (tested).

    Where no process can be started (``OSError`` from the fork: a process limit, no
    memory), the default runs the tests on threads instead.

    Raises
    ------
    ConfigError
        ``alpha`` or ``confidence`` outside (0, 1), a bad seed or number of draws,
        ``workers`` not a positive integer, or ``process=True`` where forking is not
        available.
    OSError
        ``process=True`` and no process could be started.
    """
    threads = _check_workers(workers)
    _check_levels(seed, draws, alpha, confidence)
    if process is True and not forking_works():
        raise ConfigError("process=True needs os.fork on Linux; use process=None or False")
    params = (int(seed), draws, alpha, confidence)
    run: _Run | None = None
    if process or (process is None and threads > 1 and forking_works()):
        try:
            run = _InChild(early, params, threads)
        except OSError:  # no process could be started (a limit, no memory): threads then
            if process:
                raise
    if run is None:
        run = _OnThreads(early, params, threads)
    return StagedStudy(run, params, store if use_cache else None)
