"""Python's garbage collections, kept out of the way of builds.

`fewer_collections`: a build allocates millions of objects that live to its end (the
articles, the cache, the views), and the collector, tuned for short-lived garbage,
examined them again and again: unpickling the cache of 10,000 articles took 1.6 s
with Python's default threshold and 0.7 s with a build's. Unreachable cycles are
still collected, only less often.

`DeferredCollector`: full collections moved off the path from a save to the reload.

`digest serve` keeps a large heap between rebuilds (the site's articles, views and
pages). A full collection walks all of it, and one fell inside about every other
rebuild: at 1,000 articles it costs 0.08-0.1 s of a 0.3 s rebuild. So the heap that
survives a build is frozen at once (gc.freeze: collections skip it; reference counting
still frees it), and rebuilds only collect what they allocate themselves. What freezing
can keep alive is garbage in reference cycles, about 200 objects a rebuild; a full
collection of the whole heap frees it once the site has been quiet for a moment.
"""

from __future__ import annotations

import atexit
import functools
import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Allocations (minus deallocations) between two collections of the youngest generation
# during a build; Python's default is 700.
BUILD_THRESHOLD = 10_000

# Quiet time before a full collection: longer than the browser takes to fetch the page
# it reloads, and than the gap between the saves of an editor at work.
DELAY_SECONDS = 3.0


_frozen_by_build = threading.local()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect the youngest generation every BUILD_THRESHOLD allocations, not 700; and
    undo `set_aside` at the end."""
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], BUILD_THRESHOLD), *old[1:])
    _frozen_by_build.active = False
    try:
        yield
    finally:
        gc.set_threshold(*old)
        if _frozen_by_build.__dict__.pop("active", False):
            gc.unfreeze()  # the caller may live on (tests): let its collections see it all


def set_aside() -> None:
    """Hide everything allocated so far from the collector (gc.freeze) until the build
    ends; reference counting still frees what is dropped.

    Called before forking workers and after the articles' results are in: those objects
    live to the end of the build, yet each collection of an older generation walked
    them again (at 10,000 articles, 2 s of the main process went to collections), and
    in a forked worker a collection writes to every object it walks, copying the
    parent's memory page by page. Only a build run by `fewer_collections` sets aside."""
    if getattr(_frozen_by_build, "active", None) is not None:
        _frozen_by_build.active = True
        gc.freeze()


@contextmanager
def plain_data_arriving() -> Iterator[None]:
    """No collections while plain data that lives to the end of the build is unpickled
    (workers' results, the cache's tables: no cycles to find), then it is set aside: it
    is not walked even once. Loading the cache of 10,000 articles set off a full
    collection of 0.4-0.5 s in every rebuild."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        set_aside()
        if enabled:
            gc.enable()


@functools.cache
def skip_collection_at_exit() -> None:
    """Freeze the heap when the process exits, so Python's collections at shutdown skip it.

    At exit Python collects the whole heap while it tears the modules down: after a
    rebuild of 10,000 articles that took 1.1 s of a 4.7 s command, more than any stage
    of the build. Nothing such a collection could find needs finalising: files are
    closed by `with` blocks and worker pools are shut down before the build returns.
    Reference counting still frees what the teardown drops. Registered once (cached);
    in a process that runs many commands (tests), it acts only when that process exits."""
    atexit.register(gc.freeze)


class DeferredCollector:
    """Freezes what each build leaves alive, and collects everything `delay` seconds after
    the last build, under `lock` (the build lock, so never inside a build)."""

    def __init__(self, lock: threading.Lock, delay: float = DELAY_SECONDS) -> None:
        self._lock = lock
        self._delay = delay
        self._timer: threading.Timer | None = None
        self._guard = threading.Lock()  # over _timer and _stopped
        self._stopped = False

    def built(self) -> None:
        """Call after every build."""
        with self._guard:
            if self._stopped:
                return
            gc.freeze()
            if self._timer is not None:
                self._timer.cancel()  # one collection after a burst of builds is enough
            self._timer = threading.Timer(self._delay, self.collect)
            self._timer.daemon = True
            self._timer.start()

    def collect(self) -> None:
        """A full collection, then everything still alive frozen until the next one."""
        with self._lock:
            with self._guard:
                if self._stopped:
                    return
            gc.unfreeze()
            gc.collect()
            with self._guard:
                if not self._stopped:  # stop() may have come during the collection
                    gc.freeze()

    def stop(self) -> None:
        """Cancel what is scheduled and give the process its usual collections back."""
        # Not under the build lock: a build stuck on a pathological file must not hang
        # the stop, and unfreezing in the middle of a build is harmless.
        with self._guard:
            self._stopped = True
            if self._timer is not None:
                self._timer.cancel()
            gc.unfreeze()
