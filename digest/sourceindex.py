"""The source index: the digest of every article and sidecar a build read, by the file's
stat, so that the next build need not read and hash a file whose stat is unchanged
(as git's index spares `git status` reading the work tree).

A stat is the file's inode, size, modification and change times (`file_stamp`). Writing
a file moves its change time to the present, and no program can set it back, so a file
written after a build has looked at it never matches what that build learned. (On
Windows Python's change time is the creation time: there a write that keeps the size
and then sets the modification time back would go unseen.) A file written just before
the build (less than SETTLED_NS ago) is not learned at all: within the file system's
timestamp granularity, another write could follow with the same stat. "Now" is read
from the file system, as the time it gives a file written at the start of the build,
so that a file server whose clock is behind this machine's cannot make a file look
settled when it is not.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from digest.cache import BuildCache
from digest.sources import PendingSource, file_stamp

# Two seconds: the coarsest timestamps in use (FAT) and any clock jitter between the
# file system and this process.
SETTLED_NS = 2_000_000_000


def _file_system_now(folder: Path) -> int:
    """The time the file system gives a file written now (in `folder`); this machine's
    clock if no file can be written there."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / "sources.clock", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"\n")
            return os.fstat(fd).st_mtime_ns
        finally:
            os.close(fd)
    except OSError:
        return time.time_ns()


def nothing_cached(root: Path, use_cache: bool) -> bool:
    """Whether no article's analysis is cached (a first build or check, or no cache):
    then discovery leaves the articles it does not know, and their sidecars, for the
    analysis to read where it runs, in its worker processes on a large site, rather than
    reading them all first while the workers wait (`discover(defer=True)`)."""
    return not use_cache or not BuildCache.table_exists(root, "articles")


class SourceIndex:
    """Digests of source files by their stat, in `.digest-cache/sources.pickle`."""

    def __init__(self, root: Path) -> None:
        self._table = BuildCache(root, "sources")
        self._started = min(time.time_ns(), _file_system_now(self._table.path.parent))

    def known(self, src_rel: str, stamp: str) -> str | None:
        """The digest of the file's bytes as a build read them, if its stat (`stamp`:
        `file_stamp` of it) is unchanged."""
        digest = self._table.get(src_rel, stamp)
        return digest if isinstance(digest, str) else None

    def learn(self, src_rel: str, info: os.stat_result, digest: str) -> None:
        """Remember a file read now (`info`: its stat taken before reading it), unless it
        changed too recently to be told apart from a write still to come."""
        if max(info.st_mtime_ns, info.st_ctime_ns) < self._started - SETTLED_NS:
            self._table.put(src_rel, file_stamp(info), digest)

    def learn_pending(self, source: PendingSource, digest: str) -> None:
        """`learn`, for a file discovery left for the analysis, which read it as it was
        found (read_pending checks its stat)."""
        if source.settled_ns < self._started - SETTLED_NS:
            self._table.put(source.src_rel, source.stamp, digest)

    def save(self) -> None:
        """Keep what this build knew for the next (files gone or changed are dropped)."""
        self._table.save()
