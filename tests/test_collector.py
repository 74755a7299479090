"""digest serve's garbage collections after builds (digest.collector)."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from digest.collector import DeferredCollector


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture(autouse=True)
def _collections_only_by_the_collector() -> Iterator[None]:
    gc.disable()  # so that only the collector can free a cycle
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def _cycle() -> weakref.ref[Node]:
    first, second = Node(), Node()
    first.other, second.other = second, first
    return weakref.ref(first)


def _eventually(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_a_build_freezes_the_heap_and_a_later_collection_frees_its_cycles() -> None:
    collector = DeferredCollector(threading.Lock(), delay=0.05)
    alive = _cycle()
    collector.built()
    assert gc.get_freeze_count() > 0
    assert alive() is not None  # frozen, not yet collected
    assert _eventually(lambda: alive() is None)
    # What survived the collection is frozen again.
    assert _eventually(lambda: gc.get_freeze_count() > 0)
    collector.stop()
    assert gc.get_freeze_count() == 0


def test_no_collection_runs_inside_a_build() -> None:
    build_lock = threading.Lock()
    collector = DeferredCollector(build_lock, delay=0.01)
    alive = _cycle()
    with build_lock:
        collector.built()
        time.sleep(0.2)
        assert alive() is not None
    assert _eventually(lambda: alive() is None)
    collector.stop()


def test_a_burst_of_builds_is_collected_once_after_the_last() -> None:
    collector = DeferredCollector(threading.Lock(), delay=0.3)
    alive = _cycle()
    collector.built()
    time.sleep(0.2)
    collector.built()  # postpones the collection
    time.sleep(0.2)
    assert alive() is not None
    assert _eventually(lambda: alive() is None)
    collector.stop()


def test_after_stop_nothing_is_frozen_or_scheduled() -> None:
    collector = DeferredCollector(threading.Lock(), delay=0.01)
    alive = _cycle()
    collector.stop()
    collector.built()
    time.sleep(0.2)
    assert gc.get_freeze_count() == 0
    assert alive() is not None


def test_builds_collect_less_often_and_give_the_threshold_back() -> None:
    from digest.collector import BUILD_THRESHOLD, fewer_collections

    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold() == (max(before[0], BUILD_THRESHOLD), *before[1:])
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("a failed build")
    assert gc.get_threshold() == before


def test_a_build_sets_its_heap_aside_and_gives_it_back_at_the_end() -> None:
    from digest.collector import fewer_collections, set_aside

    set_aside()  # outside a build: nothing is frozen
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), fewer_collections():
        alive = _cycle()
        set_aside()
        assert gc.get_freeze_count() > 0
        raise RuntimeError("a failed build")
    assert gc.get_freeze_count() == 0
    gc.collect()  # the cycle, no longer frozen, is collected like any other
    assert alive() is None
    set_aside()  # the build is over: nothing is frozen again
    assert gc.get_freeze_count() == 0


def test_results_arrive_without_collections_and_are_set_aside() -> None:
    from digest.collector import fewer_collections, plain_data_arriving

    gc.enable()
    with fewer_collections():
        with plain_data_arriving():
            assert not gc.isenabled()
            alive = _cycle()
        assert gc.isenabled() and gc.get_freeze_count() > 0
        gc.collect()
        assert alive() is not None  # set aside: not collected during the build
    gc.collect()
    assert alive() is None


def test_a_cache_loaded_in_a_build_is_unpickled_without_collections_and_set_aside(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pickle

    from digest import cache
    from digest.collector import fewer_collections

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    table = cache.BuildCache(tmp_path, "articles")
    table.put("a", "h", ["an article's result"])
    table.save()
    collecting: list[bool] = []  # at each unpickling: were collections on?
    real_load = pickle.load

    def load(handle: object) -> object:
        collecting.append(gc.isenabled())
        return real_load(handle)  # type: ignore[arg-type]

    monkeypatch.setattr(cache.pickle, "load", load)
    gc.enable()
    with fewer_collections():
        loaded = cache.BuildCache(tmp_path, "articles")
        assert gc.get_freeze_count() > 0 and gc.isenabled()
    assert gc.get_freeze_count() == 0
    assert loaded.get("a", "h") == ["an article's result"]
    assert collecting == [True, False]  # the version header, then the table


_EXIT_SCRIPT = """
import os, sys
class Loud:
    def __del__(self, write=os.write):
        write(1, b"collected at exit")
if sys.argv[1] == "command":
    from click.testing import CliRunner
    from digest.cli import main
    assert CliRunner().invoke(main, ["schema", "people"]).exit_code == 0
garbage = Loud()
garbage.itself = garbage  # a cycle: only a collection frees it
del garbage
"""


@pytest.mark.parametrize(("run", "printed"), [("nothing", "collected at exit"),
                                              ("command", "")])
def test_a_command_leaves_without_collecting_the_heap(run: str, printed: str) -> None:
    done = subprocess.run([sys.executable, "-c", _EXIT_SCRIPT, run], capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout == printed
