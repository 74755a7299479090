"""The build cache in `.digest-cache/`: results keyed by the content they came from.

Entries are looked up by a key and only trusted when the hash of their inputs
matches. The file carries a header naming the cache format and digest's version; a
file from another version, or one that is truncated or corrupt, is discarded and
rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any

from digest import __version__

log = logging.getLogger(__name__)
CACHE_DIR = ".digest-cache"
FORMAT = 1
_HEADER = f"digest-cache {FORMAT} {__version__} py{sys.version_info[0]}.{sys.version_info[1]}"


def content_hash(*parts: str | bytes) -> str:
    """A stable hash of several texts (length-prefixed, so parts cannot run together)."""
    digest = hashlib.blake2b(digest_size=20)
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


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
            with self.path.open("rb") as handle:
                header = pickle.load(handle)
                if header != _HEADER:
                    log.info("cache %s is from another version; rebuilding it", self.path.name)
                    return {}
                table = pickle.load(handle)
        except FileNotFoundError:
            return {}
        except Exception as exc:  # noqa: BLE001 - any damage means: do not trust it
            log.warning("cache %s is unreadable (%s); rebuilding it", self.path, exc)
            return {}
        if not isinstance(table, dict):
            log.warning("cache %s is malformed; rebuilding it", self.path)
            return {}
        return table

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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name, dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(_HEADER, handle, protocol=pickle.HIGHEST_PROTOCOL)
                pickle.dump(self._new, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("could not save the cache %s: %s", self.path, exc)
            Path(tmp).unlink(missing_ok=True)
