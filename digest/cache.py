"""The build cache in `.digest-cache/`: results keyed by the content they came from.

Entries are looked up by a key and only trusted when the hash of their inputs
matches. The file carries a header naming the cache format and digest's version; a
file from another version, or one that is truncated or corrupt, is discarded and
rebuilt, never trusted.

Cache files are pickles, and unpickling runs code, so a file is only read when it
carries an HMAC made with this user's own key (kept outside the project, in
~/.cache/digest/): a cache file planted in a repository, say by a pull request, is
ignored instead of run.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import pickle
import secrets
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from digest import __version__

log = logging.getLogger(__name__)
CACHE_DIR = ".digest-cache"
FORMAT = 4
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
    key = secrets.token_bytes(32)
    fd, tmp = tempfile.mkstemp(dir=base)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path.read_bytes()


class _SigningFile:
    """A file that signs what is written to it, so a pickle can be streamed to disk
    instead of being built in memory first."""

    def __init__(self, handle: BinaryIO, key: bytes) -> None:
        self.handle = handle
        self.mac = hmac.new(key, digestmod=hashlib.sha256)

    def write(self, data: bytes) -> int:
        self.mac.update(data)
        return self.handle.write(data)


def content_hash(*parts: str | bytes) -> str:
    """A stable hash of several texts (length-prefixed, so parts cannot run together)."""
    digest = hashlib.blake2b(digest_size=20)
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def texts_hash(parts: Iterable[str]) -> str:
    """content_hash for many short texts (page keys are made of dozens), hashed at once.

    Joined by NUL when no part holds one (then the parts are told apart by the NULs:
    the common case, and three times faster), else each part length-prefixed; the two
    encodings are hashed under different personalisations, so they cannot collide."""
    texts = parts if isinstance(parts, list | tuple) else list(parts)
    joined = "\0".join(texts)
    if texts and joined.count("\0") == len(texts) - 1:
        person = b"digest-nul"
    else:
        joined, person = "".join([f"{len(part)}:{part}" for part in texts]), b"digest-len"
    return hashlib.blake2b(joined.encode("utf-8", "surrogatepass"), digest_size=20,
                           person=person).hexdigest()


class BuildCache:
    """One named table of cached values, loaded at start and saved after a good build."""

    def __init__(self, root: Path, name: str) -> None:
        self.path = root / CACHE_DIR / f"{name}.pickle"
        self._old: dict[str, tuple[str, Any]] = self._load()
        self._new: dict[str, tuple[str, Any]] = {}
        self.hits = 0
        self.misses = 0

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
                # Verified, then read, in chunks: the payload of a large site is tens of
                # megabytes, and holding it whole beside what it unpickles to would set
                # the build's peak memory.
                signature = handle.read(32)
                mac = hmac.new(key, digestmod=hashlib.sha256)
                while chunk := handle.read(1 << 20):
                    mac.update(chunk)
                if len(signature) < 32 or not hmac.compare_digest(signature, mac.digest()):
                    log.warning("cache %s was not written by digest for this user; "
                                "ignoring it", self.path)
                    return {}
                handle.seek(32)
                header, table = pickle.load(handle)
                if header != _HEADER:
                    log.info("cache %s is from another version; rebuilding it",
                             self.path.name)
                    return {}
            except Exception as exc:  # noqa: BLE001 - any damage means: do not trust it
                log.warning("cache %s is unreadable (%s); rebuilding it", self.path, exc)
                return {}
        if not isinstance(table, dict):
            log.warning("cache %s is malformed; rebuilding it", self.path)
            return {}
        return table

    @classmethod
    def in_memory(cls) -> BuildCache:
        """A cache that lives only as long as the process (for `digest serve`): call
        `roll()` after each build instead of `save()`."""
        cache = cls.__new__(cls)
        cache.path = Path(os.devnull)
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

    def put(self, key: str, inputs_hash: str, value: Any) -> None:
        self._new[key] = (inputs_hash, value)

    def save(self) -> None:
        """Write the entries used by this build (others are dropped), atomically."""
        if self._new == self._old:
            return
        try:
            key = _user_key()
        except OSError as exc:
            log.warning("cannot save the build cache (%s)", exc)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name, dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(bytes(32))  # the signature's place, filled in below
                signing = _SigningFile(handle, key)
                pickle.dump((_HEADER, self._new), signing, protocol=pickle.HIGHEST_PROTOCOL)
                handle.seek(0)
                handle.write(signing.mac.digest())
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("could not save the cache %s: %s", self.path, exc)
            Path(tmp).unlink(missing_ok=True)
