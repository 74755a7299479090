"""Ctrl-C (SIGINT) held back or ignored around the few steps it must not cut short.

A terminal sends Ctrl-C to every process of a build, as often as it is pressed. Python
checks for a pending signal whenever the handler or the mask changes, so each helper
takes care that a press arriving at that very moment neither escapes it nor leaves
the signal blocked. Signals are the main thread's business: elsewhere both do nothing.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_CTRL_C = {signal.SIGINT}


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def ctrl_c_held() -> Iterator[None]:
    """Ctrl-C blocked: a press meanwhile is delivered (KeyboardInterrupt) when the block
    ends, not inside it."""
    if not hasattr(signal, "pthread_sigmask") or not _main_thread():
        yield
        return
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _CTRL_C)
    except KeyboardInterrupt:  # pressed just before: raised once the mask was set
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _CTRL_C)
        raise
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextmanager
def ctrl_c_ignored() -> Iterator[None]:
    """Ctrl-C has no effect in the block: a press is dropped. For the clean-up after a
    build was stopped, which a second press must not cut short."""
    if not _main_thread():
        yield
        return
    while True:
        try:
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
            break
        except KeyboardInterrupt:  # a press just now, before the handler changed: the
            continue  # build is stopping already
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
