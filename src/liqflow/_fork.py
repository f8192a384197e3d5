"""A forked worker process: work that holds the GIL done on the second core.

Python, pandas and pyarrow code holds the GIL for most of its time, so two threads do
not run it at once; a forked process does. :func:`fork_worker` runs one function in a
child process and hands what it computes back to the parent, which works meanwhile:
``liqflow import`` reads part of the files in one (:mod:`liqflow.importer`), the report
runs the study's tests in one (:mod:`liqflow.study.staged`).

What keeps it safe:

- The child only computes: it never opens the store, prints nothing and calls no
  callback of the parent's (a progress bar); it ends with :func:`os._exit`, so no
  destructor, ``atexit`` handler or buffered stream of the parent's runs in it. The
  objects alive at the fork are frozen out of the child's garbage collector
  (:func:`gc.freeze`): a DuckDB connection or a terminal display the parent holds is
  never finalised by the child.
- Ctrl-C: the child ignores SIGINT (set before it can arrive: SIGINT is blocked around
  the fork), so only the parent raises :class:`KeyboardInterrupt`; whoever leaves the
  worker unread (an interrupt, an error) kills it (:meth:`Worker.stop`).
- The result comes back pickled (protocol 5, the numpy and Arrow buffers out of band,
  each written once to the pipe and read once into the memory the parent's arrays then
  use). An exception the function raises is re-raised in the parent as itself (same
  type, same message); a child that dies or whose result cannot be sent raises
  :class:`WorkerError`, one line.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import gc
import os
import pickle
import signal
import struct
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from liqflow._errors import LiqflowError

__all__ = [
    "Worker",
    "WorkerError",
    "fork_worker",
    "forking_works",
    "receive",
    "send",
    "split_at",
    "trim_heap",
]

_T = TypeVar("_T")
_LENGTH = struct.Struct("<Q")
#: Chunks per gathered read or write (Linux's IOV_MAX is 1024).
_IOV_MAX = 1024
#: Size asked for the pipe of a worker's results (Linux's default limit for a process
#: that is not privileged): a large result then crosses in a few reads, not one per
#: 64 kB, each of which takes the reading thread's GIL again.
_PIPE_SIZE = 1 << 20
#: Tags of the message the child sends: its result, or the exception it raised.
_OK, _RAISED = 0, 1


class WorkerError(LiqflowError, RuntimeError):
    """The worker process died or could not send back what it computed."""


def forking_works() -> bool:
    """True on Linux: :func:`os.fork` without ``exec`` is safe there for the libraries
    the parsers use. (macOS system libraries may abort a forked child, which is why
    Python starts its processes there by ``spawn``; Windows has no fork.)"""
    return hasattr(os, "fork") and sys.platform.startswith("linux")


def _write_all(fd: int, chunks: list[memoryview]) -> None:
    """Write every chunk, in order, with as few system calls as the pipe allows."""
    views = [c.cast("B") for c in chunks if c.nbytes]
    while views:
        done = os.writev(fd, views[:_IOV_MAX])
        while views and done >= views[0].nbytes:
            done -= views[0].nbytes
            views.pop(0)
        if done:
            views[0] = views[0][done:]


def _read_into(fd: int, buffers: list[bytearray]) -> None:
    """Fill every buffer, in order, with as few system calls as the pipe allows."""
    views = [memoryview(b) for b in buffers if len(b)]
    got, total = 0, sum(v.nbytes for v in views)
    while views:
        k = os.readv(fd, views[:_IOV_MAX])
        if k == 0:
            raise EOFError(f"pipe closed after {got} of {total} bytes")
        got += k
        while views and k >= views[0].nbytes:
            k -= views[0].nbytes
            views.pop(0)
        if k:
            views[0] = views[0][k:]


def _read_exactly(fd: int, n: int) -> bytearray:
    out = bytearray(n)
    _read_into(fd, [out])
    return out


def send(fd: int, tag: int, value: object) -> None:
    """Write ``(tag, value)`` to the pipe ``fd``, pickled (protocol 5, the buffers out of
    band); :func:`receive` reads it back. The sizes go first, then the pickle and the
    buffers in one gathered write."""
    buffers: list[pickle.PickleBuffer] = []
    head = pickle.dumps((tag, value), protocol=5, buffer_callback=buffers.append)
    raws = [b.raw() for b in buffers]
    sizes = struct.pack(f"<{2 + len(raws)}Q", len(head), len(raws), *(r.nbytes for r in raws))
    _write_all(fd, [memoryview(sizes), memoryview(head), *raws])


def receive(fd: int) -> tuple[int, object]:
    """The next ``(tag, value)`` :func:`send` wrote to the pipe ``fd``.

    Raises :class:`EOFError` when the writer closed it first."""
    counts = _read_exactly(fd, 2 * _LENGTH.size)
    n_head, n_buffers = struct.unpack("<2Q", counts)
    lengths = struct.unpack(f"<{n_buffers}Q", _read_exactly(fd, n_buffers * _LENGTH.size))
    head = bytearray(n_head)
    buffers = [bytearray(n) for n in lengths]
    _read_into(fd, [head, *buffers])
    tag, value = pickle.loads(head, buffers=buffers)
    return int(tag), value


def _values(work: Callable[[], Iterator[object]]) -> Iterator[object]:
    yield from work()


def _child(work: Callable[[], Iterator[object]], fd: int, owner: str) -> None:
    """The child's whole life: send each value ``work()`` yields (or the exception it
    raises), then leave without cleanup."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        values = _values(work)  # work() itself runs at the first next(): its error is sent
        while True:
            try:
                message: tuple[int, object] = (_OK, next(values))
            except StopIteration:
                break
            except BaseException as exc:
                message = (_RAISED, exc)
            try:
                send(fd, *message)
            except BrokenPipeError:
                code = 3  # the parent is gone or stopped reading: nobody to tell
                break
            except BaseException as exc:
                code = 2
                with contextlib.suppress(BaseException):
                    send(fd, _RAISED, WorkerError(_one_line(message[1], exc, owner)))
                break
            if message[0] == _RAISED:
                break
    finally:
        os._exit(code)


def _one_line(value: object, exc: BaseException, owner: str) -> str:
    what = type(value).__name__
    text = str(value).splitlines()[0] if str(value) else what
    return (
        f"the {owner}'s worker process could not send back its {what} ({text}): "
        f"{type(exc).__name__}: {exc}; nothing was changed"
    )


class Worker(Generic[_T]):
    """A forked child computing a sequence of values; :meth:`receive` waits for the next."""

    def __init__(self, pid: int, fd: int, what: str, owner: str = "import") -> None:
        self.pid = pid
        self._fd: int | None = fd
        self._what, self._owner = what, owner
        self._lock = threading.Lock()  # kill() beside a reaping thread

    def receive(self) -> _T:
        """The next value the function yields; its exception re-raised (the worker then
        ends); :class:`WorkerError` when the child died first or has ended."""
        if self._fd is None:
            raise WorkerError(f"the worker process ({self._what}) has ended; nothing more to read")
        try:
            tag, value = receive(self._fd)
        except (EOFError, OSError, pickle.UnpicklingError) as exc:
            pid = self.pid
            status = self._reap(kill=True)  # a child that has exited keeps its status
            self._close()
            raise WorkerError(
                f"the {self._owner}'s worker process (pid {pid}, {self._what}) {status} "
                f"before it finished ({type(exc).__name__}); nothing was changed"
            ) from None
        if tag == _RAISED:
            self.stop()
            assert isinstance(value, BaseException)
            raise value
        return value  # type: ignore[return-value]

    def kill(self) -> None:
        """Send the child SIGKILL, without reaping it (a thread reading its results then
        meets the end of the pipe); harmless once it is reaped. Safe beside a thread that
        reaps it: never a signal to a pid the system may have reused."""
        with self._lock:
            if self.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)

    def stop(self) -> None:
        """Kill the child if it still runs and reap it (harmless when already done)."""
        self._close()
        self._reap(kill=True)

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _reap(self, *, kill: bool) -> str:
        """Wait for the child (killed first when ``kill``); how it ended, in words."""
        with self._lock:
            return self._reaped(kill=kill)

    def _reaped(self, *, kill: bool) -> str:
        if self.pid == 0:
            return "had already been reaped"
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        interrupted: KeyboardInterrupt | None = None
        while True:  # a Ctrl-C during the wait is raised once the child is reaped
            try:
                _, status = os.waitpid(self.pid, 0)
                break
            except ChildProcessError:
                status = 0
                break
            except KeyboardInterrupt as exc:
                interrupted = exc
        self.pid = 0
        if interrupted is not None:
            raise interrupted
        if os.WIFSIGNALED(status):
            return f"was killed by signal {os.WTERMSIG(status)}"
        return f"exited with status {os.WEXITSTATUS(status)}"


def fork_worker(work: Callable[[], Iterator[_T]], what: str, owner: str = "import") -> Worker[_T]:
    """Start ``work()`` in a forked child, which sends each value it yields as soon as it
    is computed; ``what`` says what it does and ``owner`` whose it is (for messages: "the
    import's worker process (pid 12, reading 3 files) ...").

    The parent's garbage collector is left as it was (its frozen objects too, as the
    report freezes its old ones while it builds): collection is only paused around the
    fork, and the child freezes what it inherits before it allocates.

    The caller must :meth:`Worker.stop` it once done (``try/finally``): the child ends
    when the values run out, or is killed.
    Raises :class:`OSError` when no process can be started (the caller then does the
    work itself).
    """
    read_fd, write_fd = os.pipe()
    with contextlib.suppress(OSError, AttributeError):  # a larger pipe, where allowed
        fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
    pid = -1
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    collecting = gc.isenabled()
    gc.disable()  # no collection from the fork until the child has frozen what it inherits
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns on fork() with threads running (a progress bar's refresh
            # thread, DuckDB's): the child touches none of their locks (see module notes)
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the child (coverage does not follow it)
            try:
                gc.freeze()  # the parent's objects are never collected by the child
                if collecting:
                    gc.enable()
                os.close(read_fd)
                _child(work, write_fd, owner)
            finally:
                os._exit(4)  # never back into the parent's code, whatever happened
    except BaseException:
        if pid != 0:  # the parent, when fork() failed (or failed it after forking)
            if collecting:
                gc.enable()
            os.close(write_fd)
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
            if pid > 0:
                Worker(pid, read_fd, what, owner).stop()
            else:
                os.close(read_fd)
        raise
    if collecting:
        gc.enable()
    os.close(write_fd)
    worker: Worker[_T] = Worker(pid, read_fd, what, owner)
    try:  # a Ctrl-C pending since the fork is raised here: the worker is stopped with it
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    except BaseException:
        worker.stop()
        raise
    return worker


def trim_heap() -> None:
    """Hand the C heap's free memory back to the system (glibc's ``malloc_trim``; nothing
    elsewhere): what the parsed files held, freed, otherwise stays resident while DuckDB
    commits."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def split_at(costs: list[float], share: float) -> int:
    """The number of leading items whose cost first reaches ``share`` of the total (at
    least one, and one short of all: both sides get work)."""
    total = sum(costs)
    if len(costs) < 2 or total <= 0:
        return 0
    run = 0.0
    for k, c in enumerate(costs, start=1):
        run += c
        if run >= share * total:
            return min(k, len(costs) - 1)
    return len(costs) - 1
