"""The writers' lock of a store file, and the file-system steps that publish a write."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from liqflow._errors import StoreError
from liqflow.store._schema import DEFAULT_WAIT, ENV_STORE_WAIT

try:  # POSIX advisory locks; Windows falls back to msvcrt byte-range locks
    import fcntl
except ImportError:  # pragma: no cover - exercised on Windows only
    fcntl = None  # type: ignore[assignment]


def _wait_seconds() -> float:
    raw = os.environ.get(ENV_STORE_WAIT, "")
    try:
        wait = float(raw) if raw.strip() else DEFAULT_WAIT
    except ValueError:
        raise StoreError(
            f"{ENV_STORE_WAIT} must be a number of seconds like 60, got {raw!r}"
        ) from None
    if not np.isfinite(wait) or wait < 0:
        raise StoreError(f"{ENV_STORE_WAIT} must be a number of seconds >= 0, got {raw!r}")
    return wait


class _WriterLock:
    """The writers' lock of a store: an advisory lock on ``<store>.lock``, bounded wait."""

    def __init__(self, store: Path, wait: float) -> None:
        self.path = store.with_name(store.name + ".lock")
        self.store = store
        self.wait = wait
        self._fd: int | None = None

    def __enter__(self) -> _WriterLock:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(
                f"cannot create the lock file {self.path}: {exc.strerror}; nothing was changed"
            ) from None
        deadline = time.monotonic() + self.wait
        pause = 0.01
        while not self._try(fd):
            if time.monotonic() >= deadline:
                holder = self._holder(fd)
                os.close(fd)
                raise StoreError(
                    f"store {self.store} is being written by another liqflow process{holder}; "
                    f"waited {self.wait:g} s (set {ENV_STORE_WAIT} to wait longer); "
                    "nothing was changed"
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.2)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {time.time():.0f}\n".encode())
        self._fd = fd
        return self

    @staticmethod
    def _try(fd: int) -> bool:
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:  # pragma: no cover - Windows
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    @staticmethod
    def _holder(fd: int) -> str:
        with contextlib.suppress(OSError, ValueError):
            pid, since = os.pread(fd, 64, 0).decode().split()
            held = max(0.0, time.time() - float(since))  # a fresh lock can read as -0.0 s
            return f" (pid {int(pid)}, for {held:.0f} s)"
        return ""

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                if fcntl is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


@contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold Ctrl-C for the few statements that publish a write, then deliver it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[object] = []
    previous = signal.signal(signal.SIGINT, lambda *a: caught.append(a))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            raise KeyboardInterrupt


def _fsync(path: Path, *, directory: bool = False) -> None:
    fd = os.open(path, (os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)) if directory else os.O_RDWR)
    try:
        os.fsync(fd)
    except OSError:
        if not directory:  # some file systems cannot sync a directory; the file is what counts
            raise
    finally:
        os.close(fd)


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")
