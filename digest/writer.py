"""The only module that writes the output folder.

Files are written as the build produces them, so no build holds the whole site in
memory, and they go live in one of two ways (`StagedSite`):

- whole: every file goes into a staging folder beside the output (files whose bytes
  did not change are hard-linked from the live site) and the folder is swapped in at
  once. A failed or killed build never leaves a half-written site where the last good
  one was. On Linux the swap is one atomic exchange of the two folders; elsewhere it
  is two renames, and a build killed between them is repaired by the next one.
- update: when the live site is known to be exactly what the previous build wrote,
  only changed files are staged; once all are written they are renamed over the live
  ones and files the build no longer makes are removed. Each file is replaced
  atomically, the site as a whole is not; that is what lets a one-article edit cost a
  handful of writes instead of one link per page.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from digest.cache import content_hash
from digest.errors import OutputError
from digest.tuplepickle import pickled_as_tuple

log = logging.getLogger(__name__)
STAGING_PREFIX = ".digest-staging-"
OLD_PREFIX = ".digest-old-"
# Every build has it (GitHub Pages needs it anyway); a folder without it is not a
# digest site, and replacing it could throw away someone's files.
SITE_MARKER = ".nojekyll"
_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EROFS: "the disk is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}
_OPEN_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


class OutputFile(NamedTuple):
    """One file of the built site: where it goes, its bytes and what produced it."""

    dest_rel: str
    content: bytes | None  # None: the very bytes of the previous build's file (`digest`)
    source: str
    key: str = ""  # hash of what the page was rendered from, for reuse by the next build
    digest: str = ""  # content hash, when content is None


def _duplicate(dest: str, source: str, other: str) -> OutputError:
    return OutputError(f"{source} and {other} both write {dest}; "
                       "rename one of them (slugs must be unique across the site)")


@dataclass(slots=True)
class SiteWriter:
    """Collects output files in memory (`digest serve`, tests), refusing two sources
    writing one path."""

    files: dict[str, OutputFile] = field(default_factory=dict)

    def write(self, output: OutputFile) -> OutputFile:
        return OutputFile(safe_dest(output.dest_rel), output.content, output.source,
                          output.key)

    def record(self, output: OutputFile) -> None:
        if output.dest_rel in self.files:
            raise _duplicate(output.dest_rel, output.source,
                             self.files[output.dest_rel].source)
        self.files[output.dest_rel] = output

    def add(self, output: OutputFile) -> None:
        self.record(self.write(output))

    def dests(self) -> Iterable[str]:
        return self.files.keys()


@pickled_as_tuple
class Written(NamedTuple):
    """What `StagedSite.write` did with one file: small enough to return from a worker."""

    dest: str
    source: str
    key: str
    digest: str
    staged: bool  # written into the staging folder (else unchanged, or hard-linked)


class StagedSite:
    """Writes the files of one build as they come, then puts them live (see the module
    docstring for the two ways).

    `previous` maps each file of the live site to its content hash, when the live site
    is known to be untouched since the build that recorded them; `update` asks for
    in-place replacement of the changed files (it needs `previous`). `write` may run in
    forked worker processes; `record` runs in the parent and sees every file.
    """

    def __init__(self, output: Path, previous: Mapping[str, str] | None = None, *,
                 update: bool = False) -> None:
        given = _absolute(output)
        if given.is_symlink():
            # check_output_dir says why; this guards callers that skipped it.
            raise OutputError(f"output folder {given} is a symbolic link; give the real "
                              "folder")
        self.output = given.resolve()
        self.existed = self.output.exists()
        self.previous = previous
        self.update = update and previous is not None and self.existed
        self.written: dict[str, Written] = {}
        try:
            self.output.parent.mkdir(parents=True, exist_ok=True)
            _remove_leftovers(self.output)
            # The pid in the name tells a later build whether this one is still running.
            self.staging = Path(tempfile.mkdtemp(
                prefix=f"{STAGING_PREFIX}{self.output.name}-{os.getpid()}-",
                dir=self.output.parent))
            # mkdtemp makes the folder private (0700); a published site must be readable
            # by the web server, like any folder the user would have made.
            os.chmod(self.staging, 0o777 & ~_umask())
        except OSError as exc:
            raise _output_error(exc, self.output, self.existed, None) from None

    def write(self, output: OutputFile) -> Written:
        dest = safe_dest(output.dest_rel)
        content = output.content
        digest = content_hash(content) if content is not None else output.digest
        known = self.previous.get(dest) if self.previous is not None else None
        try:
            if self.update:
                staged = known != digest
                if staged:
                    _write_file(self.staging, dest, _content_of(output))
            elif content is None or known == digest:
                staged = False
                _link_from_live(self.output, self.staging, dest)
            else:
                staged = not (self.existed and known is None
                              and _link_unchanged(self.output, self.staging, dest, content))
                if staged:
                    _write_file(self.staging, dest, content)
        except OSError as exc:
            self.discard()
            raise _output_error(exc, self.output, self.existed, self.staging) from None
        return Written(dest, output.source, output.key, digest, staged)

    def record(self, written: Written) -> None:
        if written.dest in self.written:
            self.discard()
            raise _duplicate(written.dest, written.source, self.written[written.dest].source)
        self.written[written.dest] = written

    def add(self, output: OutputFile) -> None:
        self.record(self.write(output))

    def dests(self) -> Iterable[str]:
        return self.written.keys()

    def digests(self) -> dict[str, tuple[str, str]]:
        """dest -> (page key, content hash) of every file, for the next build."""
        return {d: (w.key, w.digest) for d, w in self.written.items()}

    def changed(self) -> list[str]:
        return sorted(d for d, w in self.written.items() if w.staged)

    def removed(self) -> list[str]:
        if self.previous is None:
            return []
        return sorted(set(self.previous) - set(self.written))

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)

    def commit(self, before_swap: Callable[[Path], None] | None = None) -> int:
        """Put the written files live; return how many files the site has.

        `before_swap` may add to a whole staged site (the search index) before it goes
        live; an update has no whole site to give it, so the two do not mix."""
        if self.update and before_swap is not None:
            raise ValueError("an in-place update cannot run before_swap")
        try:
            if SITE_MARKER not in self.written:
                _write_file(self.staging, SITE_MARKER, b"")
            if before_swap is not None:
                before_swap(self.staging)
            if not self.update:
                _fsync_dir(self.staging)
                _swap_in(self.staging, self.output)
                return len(self.written)
        except OSError as exc:
            self.discard()
            raise _output_error(exc, self.output, self.existed, self.staging) from None
        except BaseException:
            # Ctrl-C, a failing search indexer...: nothing of this build may stay behind.
            self.discard()
            raise
        self._replace_changed()
        return len(self.written)

    def _replace_changed(self) -> None:
        changed, removed = self.changed(), self.removed()
        done = 0
        try:
            for dest in changed:
                target = self.output / dest
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(self.staging / dest, target)
                done += 1
            for dest in removed:
                _remove_with_empty_parents(self.output, dest)
        except OSError as exc:
            reason = _REASONS.get(exc.errno or 0) or exc.strerror or str(exc)
            raise OutputError(f"cannot update the site in {self.output}: {reason}; "
                              f"{done} of {len(changed)} changed files were replaced, so "
                              "the site is partly updated: build again") from None
        finally:
            self.discard()


def _content_of(output: OutputFile) -> bytes:
    if output.content is None:
        raise OutputError(f"{output.dest_rel} was to be kept from the previous build, "
                          "which did not write it; build again")
    return output.content


def _link_from_live(output: Path, staging: Path, dest: str) -> None:
    target = staging / dest
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(output / dest, target, follow_symlinks=False)
    except FileNotFoundError:
        raise OutputError(f"{output / dest} disappeared during the build; build "
                          "again") from None


def _remove_with_empty_parents(output: Path, dest: str) -> None:
    (output / dest).unlink(missing_ok=True)
    parent = (output / dest).parent
    while parent != output:
        try:
            parent.rmdir()
        except OSError:  # not empty: other files still live there
            return
        parent = parent.parent


@functools.lru_cache(maxsize=65536)  # the same few thousand paths, rebuild after rebuild
def safe_dest(dest_rel: str) -> str:
    """Refuse any destination that could land outside the output folder.

    Checked on the text, without a path object (1 us a new path instead of 3.7 us):
    what passes has no empty, '.' or '..' part and no leading '/', so it is already the
    path's normal form."""
    if (not dest_rel or "\x00" in dest_rel or "\\" in dest_rel or dest_rel[0] == "/"
            or any(part in ("..", ".", "") for part in dest_rel.split("/"))
            or (len(dest_rel) > 1 and dest_rel[1] == ":")):  # a Windows drive, C:...
        raise OutputError(f"refusing to write '{dest_rel}': outside the output folder")
    return dest_rel


def _absolute(output: Path) -> Path:
    """`output` made absolute without following a link in its last part."""
    if "\x00" in str(output):  # the OS would raise ValueError on any use of it
        raise OutputError(f"output folder {str(output)!r} is not a valid path (it holds a NUL "
                          "character)")
    return Path(os.path.abspath(output))


def check_output_dir(output: Path, root: Path) -> None:
    """The output folder may not be the project, hold or sit in its sources, be a link,
    or be a folder of other files that replacing it would destroy."""
    given = _absolute(output)
    if given.is_symlink():
        raise OutputError(f"output folder {given} is a symbolic link (to {given.resolve()}); "
                          "digest replaces the whole folder on every build, so give the "
                          "real folder instead")
    output = given.resolve()
    root = root.resolve()
    if output == root or root.is_relative_to(output):
        raise OutputError(f"output folder {output} is the project root or contains it; "
                          "choose a folder such as _site")
    for source in ("content", "themes"):
        if output.is_relative_to((root / source).resolve()):
            raise OutputError(f"output folder {output} is inside {source}/; choose a folder "
                              "outside the site's sources, such as _site")
    if output.exists() and not output.is_dir():
        raise OutputError(f"output {output} exists and is not a folder; choose a folder "
                          "such as _site")
    if (output / "site.toml").exists() or (output / "content").exists():
        raise OutputError(f"output folder {output} holds site.toml or content/; refusing to "
                          "replace it (choose an empty folder such as _site)")
    if output.is_dir() and not _is_site_or_empty(output):
        raise OutputError(f"output folder {output} is not empty and holds no digest build "
                          f"(no {SITE_MARKER}); refusing to replace its files: empty it, or "
                          "choose another folder such as _site")


def _is_site_or_empty(folder: Path) -> bool:
    try:
        return (folder / SITE_MARKER).is_file() or not any(folder.iterdir())
    except OSError:
        return False


def write_site(files: dict[str, OutputFile], output: Path,
               before_swap: Callable[[Path], None] | None = None) -> int:
    """Write every file into a staging folder, then swap it in; return files written.

    `before_swap` may add to the staged site (the search index) before it goes live."""
    site = StagedSite(output)
    try:
        for _, item in sorted(files.items()):
            site.add(item)
    except BaseException:
        site.discard()
        raise
    return site.commit(before_swap)


def _output_error(exc: OSError, output: Path, existed: bool, staging: Path | None
                  ) -> OutputError:
    reason = _REASONS.get(exc.errno or 0) or exc.strerror or str(exc)
    where = ""
    if exc.filename and staging is not None:
        name = Path(os.fsdecode(exc.filename))
        if name.is_relative_to(staging) and name != staging:
            where = f" (writing {name.relative_to(staging).as_posix()})"
    kept = ("the previous site was left as it was" if existed
            else "no site was written")
    return OutputError(f"cannot write the site to {output}: {reason}{where}; {kept}")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_file(folder: Path, dest: str, content: bytes) -> None:
    target = folder / dest
    target.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL | O_NOFOLLOW: never write through a link or over a file that is already
    # there; in a fresh staging folder neither can happen unless something is wrong.
    fd = os.open(target, _OPEN_FLAGS, 0o666)
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _link_unchanged(output: Path, staging: Path, dest: str, content: bytes) -> bool:
    """Hard-link a file whose bytes did not change from the live site into the staged one:
    no data is written, and its modification time stays, so deploy tools and browsers
    see only real changes."""
    old = output / dest
    try:
        info = os.lstat(old)
        if not stat.S_ISREG(info.st_mode) or info.st_size != len(content):
            return False
        if old.read_bytes() != content:
            return False
        target = staging / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(old, target, follow_symlinks=False)
    except OSError:
        return False  # not there, or not linkable here: write it
    return True


def _swap_in(staging: Path, output: Path) -> None:
    if not output.exists():
        os.rename(staging, output)
        return
    if _exchange(staging, output):
        # `staging` now holds the previous site; a build killed while removing it
        # leaves a staging folder that the next build removes.
        shutil.rmtree(staging, ignore_errors=True)
        return
    old = Path(tempfile.mkdtemp(prefix=f"{OLD_PREFIX}{output.name}-{os.getpid()}-",
                                dir=output.parent))
    old.rmdir()
    # Two renames: between them no site is at `output` for an instant, but a complete
    # site always exists on disk (old or new) and _remove_leftovers restores it.
    os.rename(output, old)
    try:
        os.rename(staging, output)
    except OSError:
        os.rename(old, output)
        raise
    shutil.rmtree(old, ignore_errors=True)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(first: Path, second: Path) -> bool:
    """Atomically swap two folders (Linux renameat2); False where that is unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # here: a build that updates the site in place swaps no folders

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # glibc before 2.28, musl without it
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second),
                 _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):  # kernel or file system
        return False
    raise OSError(code, os.strerror(code), os.fsdecode(second))


# What follows the prefix and output name in a leftover: '<pid>-<random>' (older
# builds: '<random>'). Anything else belongs to another output, e.g. `_site-2`.
_LEFTOVER_RE = re.compile(r"^(?:(\d+)-)?[a-z0-9_]+$")


def _is_dead_leftover(name: str, prefix: str) -> bool:
    """True when `name` is a leftover of this output whose build no longer runs."""
    match = _LEFTOVER_RE.match(name[len(prefix):]) if name.startswith(prefix) else None
    if match is None:
        return False
    if match.group(1) is None or int(match.group(1)) == os.getpid():
        return True
    try:
        os.kill(int(match.group(1)), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False


def _remove_leftovers(output: Path) -> None:
    """Clean up after a build that was killed: restore a site caught mid-swap.

    Folders of a build that is still running are left alone (builds of one site are
    serialised by digest.lock, but two sites may share an output folder's parent)."""
    staging_prefix = f"{STAGING_PREFIX}{output.name}-"
    old_prefix = f"{OLD_PREFIX}{output.name}-"
    # Not glob(): a folder name may hold '[' or '*'.
    for path in sorted(output.parent.iterdir()):
        if _is_dead_leftover(path.name, old_prefix):
            if not output.exists():
                log.warning("restoring the previous site from %s", path.name)
                os.rename(path, output)
            else:
                shutil.rmtree(path, ignore_errors=True)
        elif _is_dead_leftover(path.name, staging_prefix):
            shutil.rmtree(path, ignore_errors=True)


def _fsync_dir(folder: Path) -> None:
    """Flush the staging folder's entries before it replaces the old site.

    Files are not fsynced one by one: that would cost seconds on large sites, and a
    site lost to a power cut is rebuilt from its sources."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
