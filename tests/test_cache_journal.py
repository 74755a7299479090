"""The build cache's journal: small changes appended, bound to the table they extend."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from digest.cache import BuildCache


@pytest.fixture(autouse=True)
def _own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))


def _table(root: Path, entries: int = 20) -> None:
    cache = BuildCache(root, "articles")
    for i in range(entries):
        cache.put(f"a{i}", f"h{i}", f"value {i}")
    cache.save()


def _build(root: Path, changes: dict[str, str], drop: tuple[str, ...] = ()) -> None:
    """One build's use of the cache: every entry read, `changes` made, `drop` unused."""
    cache = BuildCache(root, "articles")
    for i in range(20):
        name = f"a{i}"
        if name in drop:
            continue
        if name in changes:
            cache.put(name, f"h{i}-new", changes[name])
        else:  # unchanged since the table, or since a change journaled before
            assert (cache.get(name, f"h{i}") or cache.get(name, f"h{i}-new")) is not None
    cache.save()


def _values(root: Path) -> dict[str, object]:
    cache = BuildCache(root, "articles")
    return {name: entry[1] for name, entry in cache._old.items()}


def test_a_small_change_is_appended_and_read_back(tmp_path: Path) -> None:
    _table(tmp_path)
    table = tmp_path / ".digest-cache/articles.pickle"
    before = table.read_bytes()
    _build(tmp_path, {"a3": "changed"}, drop=("a7",))
    assert table.read_bytes() == before  # not rewritten
    assert (tmp_path / ".digest-cache/articles.journal").stat().st_size > 0
    values = _values(tmp_path)
    assert values["a3"] == "changed" and "a7" not in values and len(values) == 19


def test_the_table_is_rewritten_once_the_journal_holds_a_quarter(tmp_path: Path) -> None:
    _table(tmp_path)
    table = tmp_path / ".digest-cache/articles.pickle"
    journal = tmp_path / ".digest-cache/articles.journal"
    for n in range(5):  # 5 of 20 entries: a quarter
        _build(tmp_path, {f"a{n}": f"changed {n}"})
        assert journal.exists()
    before = table.read_bytes()
    _build(tmp_path, {"a5": "changed 5"})
    assert table.read_bytes() != before and not journal.exists()
    values = _values(tmp_path)
    assert [values[f"a{n}"] for n in range(6)] == [f"changed {n}" for n in range(6)]


def test_records_bound_to_an_older_table_are_ignored(tmp_path: Path) -> None:
    _table(tmp_path)
    journal = tmp_path / ".digest-cache/articles.journal"
    _build(tmp_path, {"a1": "from the journal"})
    stale = journal.read_bytes()
    _table(tmp_path, entries=21)  # another table, written whole
    journal.write_bytes(stale)
    assert _values(tmp_path)["a1"] == "value 1"


@pytest.mark.parametrize("damage", ["cut", "flip"])
def test_a_damaged_record_and_those_after_it_are_ignored(tmp_path: Path, damage: str) -> None:
    _table(tmp_path)
    journal = tmp_path / ".digest-cache/articles.journal"
    _build(tmp_path, {"a1": "first record"})
    first = journal.stat().st_size
    _build(tmp_path, {"a2": "second record"})
    _build(tmp_path, {"a3": "third record"})
    data = bytearray(journal.read_bytes())
    if damage == "cut":
        data = data[:first + 45]  # the second record cut short
    else:
        data[first + 50] ^= 1  # a bit of the second record's payload
    journal.write_bytes(bytes(data))
    values = _values(tmp_path)
    assert (values["a1"], values["a2"], values["a3"]) == ("first record", "value 2", "value 3")


def _big_table(root: Path, entries: int) -> BuildCache:
    cache = BuildCache(root, "articles")
    for i in range(entries):
        cache.put(f"a{i}", f"h{i}", f"value {i}")
    return cache


@pytest.fixture
def forked_over_ten(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Tables of ten or more entries go to a forked writer; the pids that ran
    `_write_table` in this process are listed (a forked writer appends to its copy)."""
    import digest.cache as cache_module

    monkeypatch.setattr(cache_module, "BACKGROUND_ENTRIES", 10)
    here: list[int] = []
    real_write = BuildCache._write_table

    def write_table(self: BuildCache, key: bytes) -> str | None:
        here.append(os.getpid())
        return real_write(self, key)

    monkeypatch.setattr(BuildCache, "_write_table", write_table)
    return here


def test_a_large_table_is_written_by_a_forked_process(tmp_path: Path,
                                                      forked_over_ten: list[int]) -> None:
    waits: list = []
    _big_table(tmp_path, 12).save(waits)
    assert len(waits) == 1
    waits[0]()
    waits[0]()  # waiting again is harmless
    assert forked_over_ten == []  # this process wrote nothing: its forked copy did
    assert _values(tmp_path) == {f"a{i}": f"value {i}" for i in range(12)}
    # Below the threshold, or with nowhere to put the wait, it is written here and now.
    small: list = []
    _big_table(tmp_path / "small", 9).save(small)
    _big_table(tmp_path / "inline", 12).save()
    assert small == [] and forked_over_ten == [os.getpid(), os.getpid()]
    assert len(_values(tmp_path / "small")) == 9 and len(_values(tmp_path / "inline")) == 12


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]


def test_what_the_writer_could_not_do_is_reported_by_the_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forked_over_ten: list[int],
        caplog: pytest.LogCaptureFixture) -> None:
    table = tmp_path / ".digest-cache/articles.pickle"

    def failing(self: BuildCache, key: bytes) -> str | None:
        return f"could not save the cache {self.path}: [Errno 28] No space left on device"

    def crashing(self: BuildCache, key: bytes) -> str | None:
        raise RuntimeError("disk on fire")

    def killed(self: BuildCache, key: bytes) -> str | None:
        os.kill(os.getpid(), signal.SIGKILL)
        return None

    expected = {
        failing: f"could not save the cache {table}: [Errno 28] No space left on device",
        crashing: f"could not save the cache {table}: RuntimeError('disk on fire')",
        killed: f"could not save the cache {table}: its writer process ended with exit "
                "code -9",
    }
    for write_table, message in expected.items():
        monkeypatch.setattr(BuildCache, "_write_table", write_table)
        caplog.clear()
        waits: list = []
        _big_table(tmp_path, 12).save(waits)
        assert len(waits) == 1 and _warnings(caplog) == []
        waits[0]()
        assert _warnings(caplog) == [message]
    assert not table.exists()


def test_without_a_fork_the_table_is_written_here(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  forked_over_ten: list[int]) -> None:
    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    waits: list = []
    _big_table(tmp_path, 12).save(waits)
    assert waits == [] and forked_over_ten == [os.getpid()]
    assert len(_values(tmp_path)) == 12


def test_a_writer_reaped_by_someone_else_is_no_error(tmp_path: Path,
                                                     forked_over_ten: list[int]) -> None:
    previous = signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children reap themselves
    try:
        waits: list = []
        _big_table(tmp_path, 12).save(waits)
        waits[0]()
    finally:
        signal.signal(signal.SIGCHLD, previous)
    assert len(_values(tmp_path)) == 12


def _slow_writer(monkeypatch: pytest.MonkeyPatch, before: Any) -> None:
    """`_write_table` calls `before()` (in the writer), sleeps, then writes."""
    real_write = BuildCache._write_table

    def slow(self: BuildCache, key: bytes) -> str | None:
        before()
        time.sleep(0.3)
        return real_write(self, key)

    monkeypatch.setattr(BuildCache, "_write_table", slow)


def test_ctrl_c_while_waiting_comes_after_the_writer_ends(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forked_over_ten: list[int]) -> None:
    import contextlib

    from digest import build as build_module

    # The writer presses Ctrl-C for the build (this process) once the build waits for
    # it: pressed earlier, the KeyboardInterrupt would stop this test (and pytest) before
    # `pytest.raises`, as it stops a build before its wait.
    waiting = tmp_path / "waiting"
    real_held = build_module.ctrl_c_held

    @contextlib.contextmanager
    def held_then_told() -> Any:
        with real_held():
            waiting.touch()
            yield

    def press_once_waited_for() -> None:
        deadline = time.monotonic() + 60
        while not waiting.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getppid(), signal.SIGINT)

    monkeypatch.setattr(build_module, "ctrl_c_held", held_then_told)
    _slow_writer(monkeypatch, press_once_waited_for)
    waits: list = []
    _big_table(tmp_path, 12).save(waits)
    with pytest.raises(KeyboardInterrupt):
        build_module._wait_for(waits)
    assert len(_values(tmp_path)) == 12  # written before the KeyboardInterrupt came


def test_the_writer_ignores_ctrl_c(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   forked_over_ten: list[int],
                                   caplog: pytest.LogCaptureFixture) -> None:
    _slow_writer(monkeypatch, lambda: os.kill(os.getpid(), signal.SIGINT))
    waits: list = []
    _big_table(tmp_path, 12).save(waits)
    waits[0]()
    assert _warnings(caplog) == [] and len(_values(tmp_path)) == 12


def test_ctrl_c_just_after_the_fork_leaves_the_writer_waited_for(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forked_over_ten: list[int]) -> None:
    real_fork = os.fork

    def fork_then_ctrl_c() -> int:
        pid = real_fork()
        if pid:
            os.kill(os.getpid(), signal.SIGINT)  # the press reaches the build at once
        return pid

    monkeypatch.setattr(os, "fork", fork_then_ctrl_c)
    waits: list = []
    with pytest.raises(KeyboardInterrupt):
        _big_table(tmp_path, 12).save(waits)
    assert len(waits) == 1  # registered before the KeyboardInterrupt
    waits[0]()
    assert len(_values(tmp_path)) == 12


def test_a_press_as_the_wait_begins_still_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    import contextlib

    from digest import build as build_module

    @contextlib.contextmanager
    def pressed_on_entry() -> Any:
        raise KeyboardInterrupt
        yield  # pragma: no cover

    monkeypatch.setattr(build_module, "ctrl_c_held", pressed_on_entry)
    called: list[int] = []
    with pytest.raises(KeyboardInterrupt):
        build_module._wait_for([lambda: called.append(1), lambda: called.append(2)])
    assert called == [1, 2]


def test_an_unwritable_cache_folder_is_reported_not_raised(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / ".digest-cache").write_text("a file where the folder should be")
    cache = _big_table(tmp_path, 3)  # (its loading warns that it cannot read the table)
    caplog.clear()
    cache.save()
    assert _warnings(caplog) == [
        f"could not save the cache {tmp_path / '.digest-cache/articles.pickle'}: "
        f"[Errno 17] File exists: '{tmp_path / '.digest-cache'}'"]


def test_an_interrupted_write_leaves_no_temporary_file(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import digest.cache as cache_module

    def interrupted(self: object, data: bytes) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cache_module._SigningFile, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _big_table(tmp_path, 3).save()
    assert [p.name for p in (tmp_path / ".digest-cache").iterdir()] == []
