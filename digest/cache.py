"""The build cache in `.digest-cache/`: results keyed by the content they came from.

Entries are looked up by a key and only trusted when the hash of their inputs
matches. The file carries a header naming the cache format and digest's version; a
file from another version, or one that is truncated or corrupt, is discarded and
rebuilt, never trusted.

Cache files are pickles, and unpickling runs code, so a file is only read when it
carries an HMAC made with this user's own key (kept outside the project, in
~/.cache/digest/): a cache file planted in a repository, say by a pull request, is
ignored instead of run. Checking the HMAC means reading the whole file once more (at
1,000 articles 13 ms of a 0.26 s rebuild, at 10,000 ten times that), so a table
digest wrote, or verified, is sealed: its stat (device, inode, size, modification and
change times) is signed into a small `.seal` file beside it, and a table whose stat is
still the sealed one is read without the second pass. No program can set a file's
change time back, and a file written anew (a checkout, a copy, a planted file) has
another inode and change time, so the seal keeps out what the HMAC keeps out: tables
digest did not write (as with git's index and the source index; only a writer of this
user's own private file within the same tick of the file system's clock could keep
the stamp, and such a writer could change digest itself). A table whose stat moved is
verified whole again.

A build that changes a few entries appends them to a journal beside the table
instead of rewriting it (at 10,000 articles the table is about 67 MB). Each journal
record is signed together with the signature of the table it extends, so a record
left from an older table, cut short or altered is ignored, as is everything after it;
once the journal holds a quarter as many entries as the table, the table is rewritten
whole and the journal removed. Whatever is lost that way is only recomputed: an entry
is used only when its inputs hash matches.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import logging
import os
import pickle
import secrets
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO

from digest import __version__
from digest.collector import plain_data_arriving
from digest.forked import start_copy
from digest.interrupts import ctrl_c_held

log = logging.getLogger(__name__)
CACHE_DIR = ".digest-cache"
# Raised whenever what the cached values are made by changes, not only their shape:
# 12 and 13, the fast Markdown engine hands more texts to the reference (articles
# cached before may hold its different HTML); 14 and 15, the article records, then
# problems, are named tuples; 16, the feed store keeps Atom entries, packed; 17, an
# annotated article holds its chronology key.
FORMAT = 17
# The table is rewritten whole once its journal holds this share of its entries.
JOURNAL_SHARE = 0.25
_RECORD_HEAD = 32 + 8  # HMAC-SHA256, then the payload's length
# A table of at least this many entries may be written by a forked process (`save`).
BACKGROUND_ENTRIES = 1000
_HEADER = f"digest-cache {FORMAT} {__version__} py{sys.version_info[0]}.{sys.version_info[1]}"


def _user_key() -> bytes:
    """This user's secret for signing cache files, created on first use."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "digest"
    path = base / "cache-key"
    try:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
    except OSError:
        pass
    base.mkdir(parents=True, exist_ok=True)
    _write_private(path, secrets.token_bytes(32))
    return path.read_bytes()


def _signed_whole(handle: BinaryIO, key: bytes, signature: bytes) -> bool:
    """Whether what follows `signature` in `handle` carries it as its HMAC. Read in
    chunks: the payload of a large site is tens of megabytes, and holding it whole
    beside what it unpickles to would set the build's peak memory."""
    mac = hmac.new(key, digestmod=hashlib.sha256)
    while chunk := handle.read(1 << 20):
        mac.update(chunk)
    return len(signature) == 32 and hmac.compare_digest(signature, mac.digest())


def _stat_stamp(info: os.stat_result) -> bytes:
    return (f"{info.st_dev}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}:"
            f"{info.st_ctime_ns}").encode()


def _seal_mac(key: bytes, signature: bytes, stamp: bytes) -> bytes:
    return hmac.new(key, b"digest-seal\0" + signature + stamp, hashlib.sha256).digest()


def _write_private(path: Path, data: bytes) -> None:
    """Write a small file atomically, readable by this user only."""
    fd, tmp = tempfile.mkstemp(prefix=path.name, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class _SigningFile:
    """A file that signs what is written to it, so a pickle can be streamed to disk
    instead of being built in memory first."""

    def __init__(self, handle: BinaryIO, key: bytes) -> None:
        self.handle = handle
        self.mac = hmac.new(key, digestmod=hashlib.sha256)

    def write(self, data: bytes) -> int:
        self.mac.update(data)
        return self.handle.write(data)


# Hashes are SHA-256 (cut to 160 bits): OpenSSL's uses the CPU's SHA instructions where
# it has them, while Python's BLAKE2 is portable C. Every page written is hashed, and on
# a 20 KB page SHA-256 took 14 us against BLAKE2b's 39 us here.
HASH_HEX = 40


def content_hash(*parts: str | bytes) -> str:
    """A stable hash of several texts (length-prefixed, so parts cannot run together)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()[:HASH_HEX]


def texts_hash(parts: Iterable[str]) -> str:
    """content_hash for many short texts (page keys are made of dozens), hashed at once.

    Joined by NUL when no part holds one (then the parts are told apart by the NULs:
    the common case, and three times faster), else each part length-prefixed; the two
    encodings are hashed after different prefixes, so they cannot collide."""
    texts = parts if isinstance(parts, list | tuple) else list(parts)
    joined = "\0".join(texts)
    if texts and joined.count("\0") == len(texts) - 1:
        joined = "nul\0" + joined
    else:
        joined = "len\0" + "".join([f"{len(part)}:{part}" for part in texts])
    return hashlib.sha256(joined.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_HEX]


class BuildCache:
    """One named table of cached values, loaded at start and saved after a good build."""

    def __init__(self, root: Path, name: str) -> None:
        self.path = root / CACHE_DIR / f"{name}.pickle"
        self.journal = self.path.with_suffix(".journal")
        self.seal = self.path.with_suffix(".seal")
        self._signature = b""  # of the table loaded: journal records are bound to it
        self._journaled = 0  # entries the journal changes or removes
        self._old: dict[str, tuple[str, Any]] = self._load()
        if self._signature:
            self._replay_journal()
        self._new: dict[str, tuple[str, Any]] = {}
        self.hits = 0
        self.misses = 0

    @staticmethod
    def table_exists(root: Path, name: str) -> bool:
        """Whether the table has a file (a table without one starts empty), without
        loading it."""
        return (root / CACHE_DIR / f"{name}.pickle").is_file()

    def _load(self) -> dict[str, tuple[str, Any]]:
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            log.warning("cache %s is unreadable (%s); rebuilding it", self.path, exc)
            return {}
        with handle:
            try:
                key = _user_key()
            except OSError as exc:  # no private place for the key: work without a cache
                log.warning("cannot use the build cache (%s)", exc)
                return {}
            try:
                # Trusted by its seal, else by its HMAC (then sealed for the next load).
                signature = handle.read(32)
                if not self._sealed(handle, key, signature):
                    if not _signed_whole(handle, key, signature):
                        log.warning("cache %s was not written by digest for this user; "
                                    "ignoring it", self.path)
                        return {}
                    # The next build is spared the check.
                    self._seal(key, signature, handle.fileno())
                handle.seek(32)
                # The header is a pickle of its own, read first: a table from another
                # version is then never unpickled (a large site's fills hundreds of MB).
                if pickle.load(handle) != _HEADER:
                    log.info("cache %s is from another version; rebuilding it",
                             self.path.name)
                    return {}
                with plain_data_arriving():
                    table = pickle.load(handle)
            except Exception as exc:  # noqa: BLE001 - any damage means: do not trust it
                log.warning("cache %s is unreadable (%s); rebuilding it", self.path, exc)
                return {}
        if not isinstance(table, dict):
            log.warning("cache %s is malformed; rebuilding it", self.path)
            return {}
        self._signature = signature  # only a table loaded whole can take a journal
        return table

    def _seal(self, key: bytes, signature: bytes, fd: int) -> None:
        """Sign the stat of the table open as `fd`, as it is now (see the module's
        docstring); without a seal, the next load verifies the whole table. The open
        file, not the path: a file put in its place meanwhile is not the one verified."""
        try:
            stamp = _stat_stamp(os.fstat(fd))
            _write_private(self.seal, _seal_mac(key, signature, stamp) + signature + stamp)
        except OSError:  # a read-only folder, say: loads go on verifying the whole table
            with contextlib.suppress(OSError):
                self.seal.unlink(missing_ok=True)

    def _sealed(self, handle: BinaryIO, key: bytes, signature: bytes) -> bool:
        """Whether the table open in `handle`, starting with `signature`, has the stat
        its seal vouches for."""
        try:
            seal = self.seal.read_bytes()
            stamp = _stat_stamp(os.fstat(handle.fileno()))
        except OSError:
            return False
        return (len(signature) == 32 and seal[32:64] == signature and seal[64:] == stamp
                and hmac.compare_digest(seal[:32], _seal_mac(key, signature, stamp)))

    def _replay_journal(self) -> None:
        """Apply the journal's records to the table loaded, up to the first bad one."""
        try:
            handle = self.journal.open("rb")
        except OSError:
            return
        with handle:
            try:
                key = _user_key()
                while len(head := handle.read(_RECORD_HEAD)) == _RECORD_HEAD:
                    size = int.from_bytes(head[32:], "little")
                    payload = handle.read(size)
                    expected = hmac.new(key, self._signature + head[32:] + payload,
                                        hashlib.sha256).digest()
                    if len(payload) < size or not hmac.compare_digest(head[:32], expected):
                        log.info("journal %s ends in a record it cannot trust; ignoring "
                                 "the rest", self.journal.name)
                        return
                    header, changed, removed = pickle.loads(payload)
                    if header != _HEADER:
                        return
                    self._old.update(changed)
                    for name in removed:
                        self._old.pop(name, None)
                    self._journaled += len(changed) + len(removed)
            except Exception as exc:  # noqa: BLE001 - any damage means: stop trusting it
                log.warning("journal %s is unreadable (%s); ignoring the rest", self.journal,
                            exc)

    @classmethod
    def in_memory(cls) -> BuildCache:
        """A cache that lives only as long as the process (for `digest serve`): call
        `roll()` after each build instead of `save()`."""
        cache = cls.__new__(cls)
        cache.path = cache.journal = cache.seal = Path(os.devnull)
        cache._signature, cache._journaled = b"", 0
        cache._old, cache._new = {}, {}
        cache.hits = cache.misses = 0
        return cache

    def roll(self) -> None:
        """Keep what this build used for the next one, in memory."""
        self._old, self._new = self._new, {}

    def get(self, key: str, inputs_hash: str) -> Any | None:
        """The value stored under `key` if it was made from the same inputs, else None."""
        entry = self._old.get(key)
        if entry is not None and entry[0] == inputs_hash:
            self.hits += 1
            self._new[key] = entry
            return entry[1]
        self.misses += 1
        return None

    def values(self) -> dict[str, Any]:
        """Every value loaded, by key (for tables read whole, such as compiled templates)."""
        return {key: entry[1] for key, entry in self._old.items()}

    def put(self, key: str, inputs_hash: str, value: Any) -> None:
        self._new[key] = (inputs_hash, value)

    def save(self, background_waits: list[Callable[[], None]] | None = None) -> None:
        """Keep the entries used by this build (others are dropped): appended to the
        journal when they are few, else the whole table written atomically.

        Given `background_waits`, a table of BACKGROUND_ENTRIES or more is written by a
        forked copy of this process while this one goes on (at 10,000 articles writing
        the table took a second between reading the articles and rendering the pages,
        with the page workers idle), and the function that waits for the copy, and then
        reports what it could not write, is appended to the list. The caller must call
        every function in it, whatever happens, and may call each more than once."""
        if self._new == self._old:
            return
        try:
            key = _user_key()
        except OSError as exc:
            log.warning("cannot save the build cache (%s)", exc)
            return
        old = self._old
        changed = {name: entry for name, entry in self._new.items() if old.get(name) is not entry}
        removed = [name for name in old if name not in self._new]
        journaled = self._journaled + len(changed) + len(removed)
        if self._signature and journaled <= JOURNAL_SHARE * len(self._new):
            self._append(key, changed, removed)
        elif (background_waits is None or len(self._new) < BACKGROUND_ENTRIES
              or not self._write_table_forked(key, background_waits)):
            self._report(self._write_table(key))

    def _write_table_forked(self, key: bytes, waits: list[Callable[[], None]]) -> bool:
        """Start writing the table in a forked copy of this process; False when it could
        not be forked (then nothing was started).

        Forks only on Linux, as the page workers are forked, and only from a process
        running no other thread (a fork copies a lock another thread holds, locked for
        ever). Ctrl-C is held from before the fork until the wait is in `waits`, so a
        press cannot leave the copy unwaited for; the copy ignores it, and keeps
        writing when the build stops."""
        if sys.platform != "linux" or threading.active_count() != 1:
            return False
        with ctrl_c_held():
            started = start_copy(functools.partial(self._write_table_reporting, key))
            if started is None:  # write it here
                return False
            waits.append(functools.partial(self._wait_for_writer, *started, {}))
        return True

    def _write_table_reporting(self, key: bytes) -> bytes:
        """_write_table in the writer process: what went wrong, as text for the build's
        process to report (empty when nothing did)."""
        try:
            problem = self._write_table(key)
        except BaseException as exc:  # noqa: BLE001 - told to the build
            problem = f"could not save the cache {self.path}: {exc!r}"
        return (problem or "").encode("utf-8", "replace")[:4000]

    def _wait_for_writer(self, pid: int, reader: int, state: dict[str, Any]) -> None:
        # `state` records each step done, so that a call cut short (by a KeyboardInterrupt
        # from another thread's signal) is finished by the next call.
        if "message" not in state:
            with os.fdopen(reader, "rb", closefd=False) as pipe:
                message = pipe.read().decode("utf-8", "replace")  # until the copy ends
            os.close(reader)
            state["message"] = message
        if "status" in state:
            return
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:  # reaped already (SIGCHLD ignored): its status is lost
            status = 0
        state["status"] = status
        problem = state["message"]
        if not problem and status != 0:
            problem = (f"could not save the cache {self.path}: its writer process ended "
                       f"with exit code {os.waitstatus_to_exitcode(status)}")
        self._report(problem)

    @staticmethod
    def _report(problem: str | None) -> None:
        if problem:
            log.warning("%s", problem)

    def _append(self, key: bytes, changed: dict[str, tuple[str, Any]], removed: list[str]
                ) -> None:
        payload = pickle.dumps((_HEADER, changed, removed), protocol=pickle.HIGHEST_PROTOCOL)
        size = len(payload).to_bytes(8, "little")
        mac = hmac.new(key, self._signature + size + payload, hashlib.sha256).digest()
        try:
            with self.journal.open("ab") as handle:
                os.chmod(self.journal, 0o600)
                handle.write(mac + size + payload)
        except OSError as exc:
            log.warning("could not save the cache %s: %s", self.journal, exc)

    def _write_table(self, key: bytes) -> str | None:
        """Write the whole table atomically; what went wrong, or None."""
        tmp = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=self.path.name, dir=self.path.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(bytes(32))  # the signature's place, filled in below
                signing = _SigningFile(handle, key)
                pickle.dump(_HEADER, signing, protocol=pickle.HIGHEST_PROTOCOL)
                pickle.dump(self._new, signing, protocol=pickle.HIGHEST_PROTOCOL)
                signature = signing.mac.digest()
                handle.seek(0)
                handle.write(signature)
                handle.flush()
                if os.name == "posix":  # elsewhere a file still open cannot be renamed
                    os.replace(tmp, self.path)
                    tmp = None
                    # Sealed by what was written, not by whatever the path names now:
                    # after the rename, which moves the change time.
                    self._seal(key, signature, handle.fileno())
            if tmp is not None:
                os.replace(tmp, self.path)
                tmp = None
            # Its records are bound to the table just replaced: useless from now on.
            self.journal.unlink(missing_ok=True)
        except OSError as exc:
            return f"could not save the cache {self.path}: {exc}"
        finally:  # whatever stopped it (Ctrl-C too): no temporary file is left behind
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
        return None
