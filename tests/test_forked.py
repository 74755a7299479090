"""digest.forked.ForkedCall: a function run in a forked copy gives what it gives here."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from digest.forked import ForkedCall
from digest.incremental import manifest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="forks on Linux only")


def _reaped(call: ForkedCall[object]) -> bool:
    """Whether the copy `call` forked is gone and waited for already."""
    assert call.pid > 0
    try:
        os.waitpid(call.pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_the_copy_s_result_is_the_function_s(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text("x")
    (tmp_path / "feed.xml").write_text("yy")
    with ForkedCall(lambda: (os.getpid(), manifest(tmp_path))) as call:
        assert call.forked
        pid, listed = call.result()
    assert pid != os.getpid()  # made by the copy
    assert listed == manifest(tmp_path)
    assert sorted(listed) == ["a/index.html", "feed.xml"]
    assert _reaped(call)


def test_a_copy_that_fails_leaves_the_call_to_this_process() -> None:
    parent = os.getpid()

    def fails_in_the_copy() -> int:
        if os.getpid() != parent:
            raise OSError("gone")
        return os.getpid()

    with ForkedCall(fails_in_the_copy) as call:
        assert call.forked
        assert call.result() == parent
    assert _reaped(call)


def test_an_error_here_is_the_function_s_own() -> None:
    def fails() -> None:
        raise ValueError("no such folder")

    with ForkedCall(fails) as call, pytest.raises(ValueError, match="^no such folder$"):
        call.result()
    assert _reaped(call)


def test_a_result_not_taken_is_stopped_and_reaped() -> None:
    def sleeps() -> None:
        threading.Event().wait(60)

    with ForkedCall(sleeps) as call:
        assert call.forked
    assert not call.forked
    assert _reaped(call)


def test_no_fork_while_another_thread_runs() -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        with ForkedCall(os.getpid) as call:
            assert not call.forked
            assert call.result() == os.getpid()
    finally:
        stop.set()
        other.join()


def test_ctrl_c_during_the_fork_leaves_no_copy_behind(monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    import signal

    forked: list[int] = []
    real_fork = os.fork

    def fork_then_ctrl_c() -> int:
        pid = real_fork()
        if pid:  # in this process, while Ctrl-C is held: raised as the hold ends
            forked.append(pid)
            os.kill(os.getpid(), signal.SIGINT)
        return pid

    monkeypatch.setattr(os, "fork", fork_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        ForkedCall(lambda: threading.Event().wait(60))
    assert len(forked) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(forked[0], os.WNOHANG)
