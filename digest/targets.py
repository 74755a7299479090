"""What `digest build` keeps of each output folder it builds into.

The output's state (the files the last build wrote there, build.py) and the page keys'
inputs (keystate.py) describe one folder. Each folder gets tables of its own in
`.digest-cache/`, named after a hash of its path: a build into another folder (a
preview, a test run) then leaves the state of `_site` as it was, and the next build
there still updates it in place, rather than rendering and writing every page again.
The tables of the KEPT most recently built folders are kept; older ones are removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

from digest.cache import CACHE_DIR

# Output folders whose state is kept: the site's, and a few previews beside it.
KEPT = 4
# The tables kept per output folder.
KINDS = ("output", "keys")


def table_name(kind: str, target: Path) -> str:
    """The name of the `kind` table (one of KINDS) of the output folder `target`."""
    return f"{kind}-{hashlib.sha256(os.fsencode(target)).hexdigest()[:16]}"


def prune(root: Path, current: Path) -> None:
    """Remove the tables of the output folders beyond the KEPT built most recently (by
    their output state's modification time; `current`, the folder just built, always
    stays), and the tables of earlier versions, which kept one folder's state in
    `output.pickle` and `keys.pickle`."""
    folder = root / CACHE_DIR
    try:
        files = list(os.scandir(folder))
    except OSError:
        return
    built: dict[str, int] = {}
    for entry in files:
        if entry.name.startswith("output-") and entry.name.endswith(".pickle"):
            try:
                built[entry.name[len("output-"):-len(".pickle")]] = entry.stat().st_mtime_ns
            except OSError:
                continue
    this = table_name("output", current).partition("-")[2]
    built.pop(this, None)
    kept = {this, *sorted(built, key=lambda folder_id: built[folder_id], reverse=True)[:KEPT - 1]}
    for entry in files:
        kind, _, rest = entry.name.partition(".")[0].partition("-")
        if kind in KINDS and rest not in kept:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
