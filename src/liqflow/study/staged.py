"""A study begun before its alt basket is known: :func:`begin_study` -> :class:`StagedStudy`.

The alt basket is the one input of the default chain that reads the crypto universe,
which takes a caller (the report) some tenths of a second to read after the panel. A
staged study starts the tests that do not read the basket on the rest of the inputs at
once, and the others when :meth:`StagedStudy.complete` hands over the whole inputs. The
jobs, their random streams and the assembly are those of :func:`liqflow.study.run_study`
(:func:`liqflow.study.run._compute`), so the evidence is the same: only when each test
starts differs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from typing import cast

from liqflow._cache import cache_read, cache_write, in_background
from liqflow.store import Store
from liqflow.study.defaults import DEFAULT_DRAWS
from liqflow.study.evidence import Evidence
from liqflow.study.inputs import StudyInputs
from liqflow.study.run import _check_draws, _check_levels, _check_workers, _checked, _compute

__all__ = ["StagedStudy", "begin_study"]


class _Abandoned(Exception):
    """The inputs of an abandoned staged study (:meth:`StagedStudy.abandon`)."""


class StagedStudy:
    """A study begun before its alt basket is known (:func:`begin_study`).

    Its tests that do not read the alt basket run meanwhile; :meth:`complete` gives the
    whole inputs and returns the function that waits for ``(evidence, cached)``;
    :meth:`abandon` gives up (the jobs not yet begun are skipped). Every test draws from
    the same stream as in :func:`run_study`, so the evidence is the same as
    ``run_study(complete inputs)``: only the tests' start differs.
    """

    def __init__(
        self,
        early: StudyInputs,
        params: tuple[int, int, float, float],
        store: Store | None,
        workers: int,
    ) -> None:
        self._params, self._store = params, store
        self._full: Future[StudyInputs] = Future()
        self._stop = threading.Event()
        seed, draws, alpha, conf = params
        self._result = in_background(
            "study",
            partial(
                _compute,
                early,
                seed,
                draws,
                alpha,
                conf,
                workers,
                full=self._full.result,
                stop=self._stop,
            ),
        )

    def abandon(self) -> None:
        """Skip the jobs not yet begun; the tests of the alt basket see no inputs."""
        self._stop.set()
        if not self._full.done():
            self._full.set_exception(_Abandoned("the staged study was abandoned"))

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
        self._full.set_result(inputs)
        store = self._store

        def wait() -> tuple[Evidence, bool]:
            value = self._result()
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
) -> StagedStudy:
    """:func:`~liqflow.study.run_study` begun in the background on the inputs known
    before the alt basket (:func:`liqflow.study.inputs.inputs_before_alts`), so the tests that do not read it
    run while the caller reads the crypto universe; :meth:`StagedStudy.complete` with
    the whole inputs (:func:`~liqflow.study.inputs.with_alt_basket`) then reads the
    cache and lets the others run.

    Raises
    ------
    ConfigError
        ``alpha`` or ``confidence`` outside (0, 1), a bad seed or number of draws, or
        ``workers`` not a positive integer.
    """
    threads = _check_workers(workers)
    _check_levels(seed, draws, alpha, confidence)
    params = (int(seed), draws, alpha, confidence)
    return StagedStudy(early, params, store if use_cache else None, threads)
