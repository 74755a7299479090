"""One build of a site at a time: an advisory lock on `<root>/.digest-cache/build.lock`.

Two builds of one site at once would race on the cache and on the output folder's
swap (one could remove the other's staging folder, or put an old site back). The lock
is an `flock`, so the kernel releases it when its holder exits, however it exits: a
killed build never leaves a stale lock behind. A process forked by the build (the
writer of a large cache, `cache.BuildCache.save`) shares the lock until it ends too:
the build waits for it, and a killed build's writer finishes its file and exits. The
file holds the holder's pid, only to name it in the message a waiting build prints.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from digest.errors import DigestError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: builds are not serialised there
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)
LOCK_DIR = ".digest-cache"
LOCK_NAME = "build.lock"
# Long enough to wait out a rebuild of a large site, short enough that a build stuck
# behind a hung one reports it instead of hanging a CI job.
DEFAULT_TIMEOUT = 60.0
_POLL_SECONDS = 0.05


class BuildLocked(DigestError):
    """Another build of the same site holds the lock for longer than we may wait."""


def lock_path(root: Path) -> Path:
    return root / LOCK_DIR / LOCK_NAME


@contextmanager
def build_lock(root: Path, timeout: float | None = None) -> Iterator[Path | None]:
    """Hold the build lock of the site at `root`, waiting up to `timeout` seconds.

    Yields the lock file, or None when the project folder is read-only (nothing can
    race on a cache or an output that no build can write there).
    """
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    path = lock_path(root)
    fd = _open(path) if fcntl is not None else None
    if fd is None:
        yield None
        return
    try:
        _acquire(fd, path, timeout)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the flock


def _open(path: Path) -> int | None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_NOFOLLOW: a lock file planted as a link must not make us truncate its target.
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            log.debug("cannot create %s (%s); building without a lock", path, exc.strerror)
            return None
        raise DigestError(f"cannot create the build lock {path}: {exc.strerror or exc}; "
                          f"remove it if it is not a plain file") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise DigestError(f"the build lock {path} is not a plain file; remove it")
    return fd


def _acquire(fd: int, path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    waiting = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        holder = _holder(fd)
        if time.monotonic() >= deadline:
            raise BuildLocked(
                f"another digest build is running for this site ({holder}); wait for it "
                f"to finish, or stop it. The lock ({path}) is released as soon as that "
                "process ends")
        if not waiting:
            log.info("waiting for another digest build of this site (%s)", holder)
            waiting = True
        time.sleep(_POLL_SECONDS)


def _holder(fd: int) -> str:
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return f"pid {text}" if text.isdigit() else "pid unknown"
