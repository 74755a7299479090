"""A function run in a forked copy of this process while the build goes on.

A build has steps that wait on the file system more than they compute, such as
listing every file of the output folder (`incremental.manifest`: 19 ms of a 0.27 s
rebuild at 1,000 articles, 0.11 s at 10,000). A thread cannot take one: the build's
own Python holds the interpreter lock, and a thread coming back from each `stat` waits
for it. A forked copy runs on the other core, and hands its result back through a pipe
as `marshal` data (plain values only: marshal is quicker than pickle and runs no code).
"""

from __future__ import annotations

import contextlib
import marshal
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Generic, TypeVar

from digest.interrupts import ctrl_c_held

T = TypeVar("T")


def _can_fork() -> bool:
    # Linux only, as the page workers; never from a process running other threads (a
    # fork copies a lock another thread holds, locked for ever); and only with a second
    # core, else the copy just takes turns with the build.
    return (sys.platform == "linux" and threading.active_count() == 1
            and len(os.sched_getaffinity(0)) > 1)


class ForkedCall(Generic[T]):
    """`function()` started in a forked copy; `result()` waits for it. Where a fork is
    unsafe or fails, or the copy fails, `result()` calls `function` here instead, so the
    outcome (value or exception) is always that of calling it here. Use as a context
    manager: leaving stops and reaps a copy whose result was not taken."""

    def __init__(self, function: Callable[[], T]) -> None:
        self._function = function
        self._pid = 0
        self.pid = 0  # the copy's, kept after it is reaped
        self._reader = -1
        if _can_fork():
            try:
                self._start()
            except BaseException:  # Ctrl-C, raised as the hold ends: no copy left behind
                self.close()
                raise

    @property
    def forked(self) -> bool:
        return self._pid != 0

    def _start(self) -> None:
        with ctrl_c_held():  # a press cannot come between the fork and knowing the pid
            started = start_copy(lambda: marshal.dumps(self._function()))
            if started is not None:  # else `result` calls the function here
                self._pid = self.pid = started[0]
                self._reader = started[1]

    def result(self) -> T:
        """The function's value: the copy's, or made here when there is none."""
        if self.forked:
            chunks = []
            with os.fdopen(self._reader, "rb") as pipe:  # closes the reader
                self._reader = -1
                while chunk := pipe.read(1 << 20):
                    chunks.append(chunk)
            with ctrl_c_held():  # reaped and forgotten together: never killed once reaped
                status = _reap(self._pid)
                self._pid = 0
            if status == 0:
                return marshal.loads(b"".join(chunks))  # type: ignore[no-any-return]
        return self._function()

    def close(self) -> None:
        """Stop the copy if it still runs, and reap it."""
        if self._reader >= 0:
            os.close(self._reader)
            self._reader = -1
        if self.forked:
            with ctrl_c_held():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self._pid, signal.SIGKILL)
                _reap(self._pid)
                self._pid = 0

    def __enter__(self) -> ForkedCall[T]:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def start_copy(work: Callable[[], bytes]) -> tuple[int, int] | None:
    """Fork a copy of this process that runs `work`, writes the bytes it returns into a
    pipe and exits (status 0, or 1 if `work` raised), without exit handlers or flushing
    buffers. The copy ignores Ctrl-C: the build's own process decides. Returns the
    copy's pid and the pipe's reading end, or None when no pipe or process could be had
    (then nothing was started). Call it with Ctrl-C held (`ctrl_c_held`), so that a
    press cannot come before the caller knows the pid."""
    try:
        reader, writer = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:  # no process to spare (a pids limit, memory)
        os.close(reader)
        os.close(writer)
        return None
    if pid == 0:  # the copy: never returns
        code = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a press pending: dropped
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
            os.close(reader)
            data = memoryview(work())
            while data:
                data = data[os.write(writer, data):]
            code = 0
        finally:
            os._exit(code)
    os.close(writer)
    return pid, reader


def _reap(pid: int) -> int:
    """The copy's exit status; -1 when it was reaped already (SIGCHLD ignored), so lost."""
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return -1
