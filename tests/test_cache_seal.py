"""The build cache's seals: a table whose stat is the one digest signed is read without
verifying its HMAC again; any other is verified whole, and refused if it fails."""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import time
from pathlib import Path

import pytest

from digest import cache as cache_module
from digest.cache import BuildCache


@pytest.fixture(autouse=True)
def _own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))


@pytest.fixture
def full_checks(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The tables verified whole (by their open file's name), in order."""
    checked: list[Path] = []
    signed_whole = cache_module._signed_whole

    def spy(handle, key: bytes, signature: bytes) -> bool:  # type: ignore[no-untyped-def]
        checked.append(Path(handle.name))
        return signed_whole(handle, key, signature)

    monkeypatch.setattr(cache_module, "_signed_whole", spy)
    return checked


def _table(root: Path, name: str = "articles") -> Path:
    cache = BuildCache(root, name)
    for i in range(20):
        cache.put(f"a{i}", f"h{i}", f"value {i}")
    cache.save()
    return cache.path


def _values(root: Path, name: str = "articles") -> dict[str, object]:
    return BuildCache(root, name).values()


def _settle() -> None:
    # File times come from a coarse clock (a tick of a few milliseconds): a change made
    # within the tick of the write could keep the change time the seal holds.
    time.sleep(0.05)


def test_a_sealed_table_is_not_verified_again(tmp_path: Path, full_checks: list[Path]) -> None:
    table = _table(tmp_path)
    assert table.with_suffix(".seal").is_file()
    assert _values(tmp_path) == {f"a{i}": f"value {i}" for i in range(20)}
    assert full_checks == []


def test_a_table_changed_in_place_is_verified_and_refused(
        tmp_path: Path, full_checks: list[Path], caplog: pytest.LogCaptureFixture) -> None:
    table = _table(tmp_path)
    _settle()
    before = table.stat()
    data = table.read_bytes()
    assert data.count(b"value 7") == 1
    with table.open("r+b") as handle:  # the same file, the same size and times
        handle.write(data.replace(b"value 7", b"value 8"))
    os.utime(table, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (table.stat().st_ino, table.stat().st_mtime_ns) == (before.st_ino,
                                                              before.st_mtime_ns)
    with caplog.at_level(logging.WARNING, logger="digest.cache"):
        assert _values(tmp_path) == {}
    assert full_checks == [table]
    assert caplog.messages == [
        f"cache {table} was not written by digest for this user; ignoring it"]


def test_a_touched_table_is_verified_once_then_sealed_again(
        tmp_path: Path, full_checks: list[Path]) -> None:
    table = _table(tmp_path)
    _settle()
    os.utime(table)
    assert len(_values(tmp_path)) == 20
    assert len(_values(tmp_path)) == 20
    assert full_checks == [table]


def test_a_seal_does_not_vouch_for_another_table(tmp_path: Path,
                                                 full_checks: list[Path]) -> None:
    articles, feeds = _table(tmp_path, "articles"), _table(tmp_path, "feeds")
    shutil.copyfile(articles.with_suffix(".seal"), feeds.with_suffix(".seal"))
    assert len(_values(tmp_path, "feeds")) == 20  # genuinely signed: it passes
    assert full_checks == [feeds]


class _Trap:
    """Unpickling this creates a file: proof that loading ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def test_a_planted_table_with_a_forged_seal_runs_no_code(tmp_path: Path,
                                                         full_checks: list[Path]) -> None:
    folder = tmp_path / ".digest-cache"
    folder.mkdir()
    marker = tmp_path / "code-ran"
    table = folder / "articles.pickle"
    table.write_bytes(bytes(32) + pickle.dumps(_Trap(marker)))
    # All a planter can know: the table's stat and its first bytes, not the user's key.
    stamp = cache_module._stat_stamp(table.stat())
    (folder / "articles.seal").write_bytes(bytes(32) + bytes(32) + stamp)
    assert _values(tmp_path) == {}
    assert not marker.exists()
    assert full_checks == [table]


def test_a_table_that_cannot_be_sealed_is_still_read(tmp_path: Path, full_checks: list[Path],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    table = _table(tmp_path)
    table.with_suffix(".seal").unlink()

    def read_only(path: Path, data: bytes) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(cache_module, "_write_private", read_only)
    monkeypatch.setattr(Path, "unlink", lambda self, missing_ok=False: read_only(self, b""))
    assert len(_values(tmp_path)) == 20
    assert len(_values(tmp_path)) == 20
    assert full_checks == [table, table]


def test_a_table_put_in_place_of_the_one_verified_is_not_sealed(
        tmp_path: Path, full_checks: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """The seal is made from the file that was verified, not from whatever the path
    names a moment later: a table swapped in meanwhile (with the genuine signature
    copied in front) is verified, and refused, when it is read."""
    table = _table(tmp_path)
    _settle()
    os.utime(table)  # the seal no longer matches: the next load verifies whole
    marker = tmp_path / "code-ran"
    planted = tmp_path / "planted.pickle"
    planted.write_bytes(table.read_bytes()[:32] + pickle.dumps(cache_module._HEADER)
                        + pickle.dumps(_Trap(marker)))
    signed_whole = cache_module._signed_whole

    def then_swapped(handle, key: bytes, signature: bytes) -> bool:  # type: ignore[no-untyped-def]
        verified = signed_whole(handle, key, signature)
        os.replace(planted, table)
        return verified

    monkeypatch.setattr(cache_module, "_signed_whole", then_swapped)
    assert len(_values(tmp_path)) == 20  # the genuine table, read from the open file
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    assert _values(tmp_path) == {}
    assert not marker.exists()
