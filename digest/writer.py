"""The only module that writes the output folder.

A build is staged in a fresh folder beside the output and swapped in by renames only
when everything was written, so a failed or killed build never leaves a half-written
site where the last good one was.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from digest.errors import OutputError

log = logging.getLogger(__name__)
STAGING_PREFIX = ".digest-staging-"
OLD_PREFIX = ".digest-old-"


@dataclass(frozen=True, slots=True)
class OutputFile:
    """One file of the built site: where it goes, its bytes and what produced it."""

    dest_rel: str
    content: bytes
    source: str


@dataclass(slots=True)
class SiteWriter:
    """Collects output files, refusing two sources writing one path."""

    files: dict[str, OutputFile] = field(default_factory=dict)

    def add(self, output: OutputFile) -> None:
        dest = safe_dest(output.dest_rel)
        if dest in self.files:
            other = self.files[dest].source
            raise OutputError(f"{output.source} and {other} both write {dest}; "
                              "rename one of them (slugs must be unique across the site)")
        self.files[dest] = OutputFile(dest, output.content, output.source)


def safe_dest(dest_rel: str) -> str:
    """Refuse any destination that could land outside the output folder."""
    path = PurePosixPath(dest_rel)
    if (not dest_rel or "\x00" in dest_rel or "\\" in dest_rel or path.is_absolute()
            or any(part in ("..", ".", "") for part in dest_rel.split("/"))):
        raise OutputError(f"refusing to write '{dest_rel}': outside the output folder")
    return path.as_posix()


def check_output_dir(output: Path, root: Path) -> None:
    """The output folder may not be the project or hold its sources."""
    output = output.resolve()
    root = root.resolve()
    if output == root or root.is_relative_to(output):
        raise OutputError(f"output folder {output} is the project root or contains it; "
                          "choose a folder such as _site")
    if (output / "site.toml").exists() or (output / "content").exists():
        raise OutputError(f"output folder {output} holds site.toml or content/; refusing to "
                          "replace it (choose an empty folder such as _site)")


def write_site(files: dict[str, OutputFile], output: Path) -> int:
    """Write every file into a staging folder, then swap it in; return files written."""
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(output)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX + output.name + "-",
                                    dir=output.parent))
    try:
        for dest, item in sorted(files.items()):
            target = staging / dest
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(item.content)
        _fsync_tree(staging)
        _swap_in(staging, output)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        reason = {errno.ENOSPC: "the disk is full", errno.EROFS: "the disk is read-only",
                  errno.EACCES: "permission denied"}.get(exc.errno or 0, str(exc))
        raise OutputError(f"cannot write the site to {output}: {reason}; the previous "
                          "site was left as it was") from None
    return len(files)


def _swap_in(staging: Path, output: Path) -> None:
    if not output.exists():
        os.rename(staging, output)
        return
    old = Path(tempfile.mkdtemp(prefix=OLD_PREFIX + output.name + "-", dir=output.parent))
    old.rmdir()
    # Two renames: between them no site is at `output` for an instant, but a complete
    # site always exists on disk (old or new) and _remove_leftovers restores it.
    os.rename(output, old)
    os.rename(staging, output)
    shutil.rmtree(old, ignore_errors=True)


def _remove_leftovers(output: Path) -> None:
    """Clean up after a build that was killed: restore a site caught mid-swap."""
    for path in sorted(output.parent.glob(OLD_PREFIX + output.name + "-*")):
        if not output.exists():
            log.warning("restoring the previous site from %s", path.name)
            os.rename(path, output)
        else:
            shutil.rmtree(path, ignore_errors=True)
    for path in output.parent.glob(STAGING_PREFIX + output.name + "-*"):
        shutil.rmtree(path, ignore_errors=True)


def _fsync_tree(folder: Path) -> None:
    """Make sure the staged files are on disk before they replace the old site."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
