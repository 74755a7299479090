"""Discover and read the site's source files; the only module that reads content/."""

from __future__ import annotations

import hashlib
import os
import stat
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from digest.cache import HASH_HEX
from digest.config import SiteConfig
from digest.errors import Problem

if TYPE_CHECKING:
    from digest.sourceindex import SourceIndex


def data_digest(data: bytes) -> str:
    """What a source file's bytes are known by: in the articles' input keys, the build's
    fingerprint and the source index (SHA-256, cut as cache.content_hash's)."""
    return hashlib.sha256(data).hexdigest()[:HASH_HEX]


@dataclass(frozen=True, slots=True, weakref_slot=True)
class SourceText:
    """One source file's text, with its path relative to the site root.

    Kept as UTF-8 bytes: a build holds every source file, and news text with curly
    quotes would take two bytes a character as `str` (one as UTF-8)."""

    src_rel: str
    data: bytes  # UTF-8, without a byte order mark, lines ending in '\n'
    digest: str  # data_digest(data)

    @classmethod
    def of(cls, src_rel: str, text: str) -> SourceText:
        data = text.encode("utf-8")
        return cls(src_rel, data, data_digest(data))

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")


def file_stamp(info: os.stat_result) -> str:
    """What tells a file's versions apart without reading it (as git's index does): its
    inode, size, and modification and change times."""
    return f"{info.st_ino}:{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}"


class UnreadSource(NamedTuple):
    """An article or sidecar left unread: the source index knows its digest, because the
    file's stat is what it was when a build read it. Read (`read_unread`) only if its
    article must be analysed again, which the articles cache mostly spares. (A named
    tuple: a build makes one for nearly every file of the site.)"""

    src_rel: str
    path: str
    digest: str
    stamp: str  # file_stamp when it was found


class PendingSource(NamedTuple):
    """An article or sidecar found but left for the analysis to read, where it is read
    anyway: on a build with nothing cached for it (a cold build, a new article), so that
    the worker processes read and hash the files rather than this one alone, before they
    could start. Its digest is known once read (`read_pending`)."""

    src_rel: str
    path: str
    stamp: str  # file_stamp when it was found
    settled_ns: int  # the later of its modification and change times, for the index


Source = SourceText | UnreadSource
Found = SourceText | UnreadSource | PendingSource  # what discovery gives of an article
_Found = TypeVar("_Found", SourceText, Found)  # what `discover` gathers


class SourceSet(NamedTuple):
    """Every content file of the site, found (and read, or known by the source index)."""

    articles: tuple[Found, ...]
    sidecars: dict[str, Found]  # by stem
    topics: SourceText | None
    people: SourceText | None
    pages: tuple[SourceText, ...]
    editions: tuple[SourceText, ...]

    def pending(self) -> list[PendingSource]:
        """The articles and sidecars discovery left for the analysis to read."""
        return [s for s in (*self.articles, *self.sidecars.values())
                if isinstance(s, PendingSource)]


def _rel(path: Path | str, root: Path) -> str:
    text, prefix = os.fspath(path), str(root).rstrip(os.sep) + os.sep
    if os.sep == "/" and text.startswith(prefix):  # the common case, without pathlib
        return text[len(prefix):]
    return Path(path).relative_to(root).as_posix()


def _outside(path: Path | str, real_root: Path, what: str = "symbolic link",
             real_dirs: dict[str, Path] | None = None) -> str | None:
    """Why `path` may not be read when it really leads outside the project, else None.

    `real_dirs` remembers resolved folders within one discovery: a file that is not a
    link itself really lies where its folder really is, so only folders and links need
    the (slow) full resolution."""
    text = os.fspath(path)
    try:
        if real_dirs is not None and not os.path.islink(text):
            # Plain strings: this runs for every content file of every build.
            folder, name = os.path.split(text)
            real_folder = real_dirs.get(folder)
            if real_folder is None:
                real_folder = real_dirs[folder] = Path(folder).resolve()
            resolved = os.path.join(real_folder, name)
        else:
            resolved = str(Path(text).resolve())
    except (RuntimeError, OSError):  # a loop of links leads nowhere readable
        return f"{what} is part of a loop of symbolic links"
    root = str(real_root)
    if resolved == root or resolved.startswith(root.rstrip(os.sep) + os.sep):
        return None
    return f"{what} points outside the project ({resolved})"


def _real(folder: Path, real_dirs: dict[str, Path] | None) -> Path:
    if real_dirs is None:
        return folder.resolve()
    key = str(folder)
    if key not in real_dirs:
        real_dirs[key] = folder.resolve()
    return real_dirs[key]


def read_source(path: Path | str, root: Path, max_size: int,
                real_dirs: dict[str, Path] | None = None,
                links_checked: bool = False, stamp: str | None = None
                ) -> SourceText | Problem:
    """Read one UTF-8 file, refusing links out of the project, huge files and bad bytes.

    `links_checked`: the folders above the file were found inside the project and
    holding no symbolic link at all, so the file's own check can be skipped. `stamp`:
    the file_stamp the file had when discovery checked it; a file opened with another
    is not read (a problem says it changed)."""
    src_rel = _rel(path, root)
    # Checked for every file, not only links: a file below a linked folder is not a
    # link itself but lies outside all the same.
    if not links_checked and (message := _outside(path, _real(root, real_dirs),
                                                  real_dirs=real_dirs)) is not None:
        return Problem(src_rel, 1, 1, message,
                       "copy the file into the project instead of linking to it",
                       code="symlink")
    try:
        data, size = _read_bytes(path, max_size, stamp)
    except _ChangedSinceFound:
        return _changed(src_rel)
    except OSError as exc:
        if stamp is not None and isinstance(exc, FileNotFoundError):
            return _changed(src_rel)  # found by discovery, gone since
        return Problem(src_rel, 1, 1, f"cannot read the file: {exc.strerror or exc}",
                       "check that it exists and is readable", code="unreadable")
    if size > max_size:
        return Problem(src_rel, 1, 1, f"file is {size} bytes, over the limit of {max_size}",
                       "split it, or raise max_file_size under [build] in site.toml",
                       code="too-large")
    try:
        text = data.decode("utf-8")  # only to check it: the bytes are what is kept
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start:exc.start].decode("utf-8", "replace")) + 1
        return Problem(src_rel, data.count(b"\n", 0, exc.start) + 1, column,
                       f"not valid UTF-8 (byte offset {exc.start}: "
                       f"0x{data[exc.start]:02x})",
                       "save the file as UTF-8", code="encoding")
    if data.startswith(b"\xef\xbb\xbf") or b"\r" in data:
        text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
        data = text.encode("utf-8")
    if b"\0" in data:  # in UTF-8 a zero byte is only ever U+0000
        offset = text.index("\x00")
        line = text.count("\n", 0, offset) + 1
        return Problem(src_rel, line, offset - text.rfind("\n", 0, offset),
                       "file contains a NUL character", "remove it; it is not text",
                       code="encoding")
    return SourceText(src_rel, data, data_digest(data))


def read_unread(source: UnreadSource, config: SiteConfig) -> SourceText | Problem:
    """The text of a source discovery left unread; a problem if it cannot be read, or if
    it is no longer what the source index knew (changed since the build began)."""
    # As read_pending: whatever has taken the file's place since discovery checked where
    # it leads (a link out of the project, a pipe) is not read, as its stat differs.
    result = read_pending(source, config)
    if isinstance(result, SourceText) and result.digest != source.digest:
        return _changed(source.src_rel)
    return result


def read_pending(source: PendingSource | UnreadSource, config: SiteConfig
                 ) -> SourceText | Problem:
    """The text of a source discovery left for the analysis; a problem if it cannot be
    read or is no longer the file discovery found and checked (another stat)."""
    # The stat is compared on the opened file: what has taken the file's place since
    # discovery (a link out of the project, another file) is never read.
    return read_source(source.path, config.root, config.max_file_size, links_checked=True,
                       stamp=source.stamp)


def _changed(src_rel: str) -> Problem:
    return Problem(src_rel, 1, 1, "the file changed while the site was being built",
                   "build again", code="changed")


class _ChangedSinceFound(Exception):
    """The opened file's stat is not the one discovery saw."""


def _read_bytes(path: Path | str, max_size: int, stamp: str | None = None
                ) -> tuple[bytes, int]:
    """The file's bytes, never more than `max_size` + 1 even if it grows meanwhile, and
    its size. With os.open and os.read rather than a file object: this runs for every
    content file of every build, and the buffered file object cost half the time.
    With `stamp`, raises _ChangedSinceFound unless the opened file has that file_stamp
    (opened without blocking, and never as a controlling terminal: a pipe or a terminal
    put in its place must not stop the build)."""
    checked = os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) if stamp else 0
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | checked)
    try:
        info = os.fstat(fd)
        if stamp is not None and file_stamp(info) != stamp:
            raise _ChangedSinceFound
        size = info.st_size
        data = os.read(fd, min(size, max_size) + 1)
        while len(data) <= max_size and (more := os.read(fd, max_size + 1 - len(data))):
            data += more
    finally:
        os.close(fd)
    return data, max(size, len(data))


def _read_remembered(path: str, root: Path, max_size: int, real_dirs: dict[str, Path],
                     memo: dict[str, tuple[tuple[int, int, int], SourceText]] | None,
                     links_checked: bool = False) -> SourceText | Problem:
    """read_source, or the text read before when the file's stamp is unchanged."""
    if memo is None:
        return read_source(path, root, max_size, real_dirs, links_checked)
    try:
        info = os.stat(path)
    except OSError:
        return read_source(path, root, max_size, real_dirs, links_checked)
    stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
    known = memo.get(path)
    if known is not None and known[0] == stamp and (
            links_checked or _outside(path, _real(root, real_dirs), real_dirs=real_dirs) is None):
        return known[1]
    result = read_source(path, root, max_size, real_dirs, links_checked)
    if isinstance(result, SourceText):
        memo[path] = (stamp, result)
    return result


def stem_of(src_rel: str) -> str:
    """PurePosixPath(src_rel).stem, without a path object per file."""
    name = src_rel.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[:dot] if dot > 0 else name


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:  # a loop of links: reported by _refuse_outside_links
        return False


Listings = dict[str, list[os.DirEntry[str]]]


def _files(folder: Path, suffix: str, listings: Listings) -> list[str]:
    """The paths of the files in `folder` named *`suffix`, sorted; from its entries in
    `listings` when the folder was listed already."""
    entries = listings.get(os.fspath(folder))
    if entries is None:
        try:
            with os.scandir(folder) as found:  # file types without a stat per file
                entries = sorted(found, key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            return []
        listings[os.fspath(folder)] = entries
    # Strings, not Path objects: one per content file.
    return [e.path for e in entries
            if e.name.endswith(suffix) and not e.name.startswith(".") and _is_file(e)]


def _read_indexed(path: str, root: Path, max_size: int, real_dirs: dict[str, Path],
                  index: SourceIndex | None, links_checked: bool,
                  defer: bool) -> Found | Problem:
    """read_source, or the file left unread when the source index knows its stat, or left
    for the analysis to read (`defer`); a file read is taught to the index."""
    try:
        info = os.stat(path)
    except OSError:
        return read_source(path, root, max_size, real_dirs, links_checked)
    src_rel = _rel(path, root)
    stamp = file_stamp(info)
    if info.st_size <= max_size and stat.S_ISREG(info.st_mode):
        digest = index.known(src_rel, stamp) if index is not None else None
        if (digest is not None or defer) and (links_checked or _outside(
                path, _real(root, real_dirs), real_dirs=real_dirs) is None):
            if digest is not None:
                return UnreadSource(src_rel, path, digest, stamp)
            return PendingSource(src_rel, path, stamp, max(info.st_mtime_ns, info.st_ctime_ns))
    result = read_source(path, root, max_size, real_dirs, links_checked)
    if index is None:
        return result
    if isinstance(result, SourceText):
        index.learn(src_rel, info, result.digest)
    return result


def discover(config: SiteConfig, memo: dict[str, tuple[tuple[int, int, int], SourceText]]
             | None = None, index: SourceIndex | None = None,
             defer: bool = False) -> tuple[SourceSet, list[Problem]]:
    """Find and read every content file; unreadable ones become problems.

    With `memo` (kept by `digest serve` between rebuilds), a file whose size, inode and
    modification time are unchanged is not read again; the link checks still run. With
    `index` (`digest build`), an article or sidecar the index knows is not read at all:
    it is an UnreadSource. With `defer` (nothing is cached for any article: a cold
    build), articles the index does not know, and their sidecars, are found but not read:
    they are PendingSources, read by the analysis (`read_pending`), in its worker
    processes on a large site."""
    root = config.root
    content = config.content_dir
    problems: list[Problem] = []
    # Where the content folder holds no link at all, every file in it lies inside.
    listings: Listings = {}  # each folder is listed once, for the link check and files
    links_checked = _refuse_outside_links(content, root, problems, listings)
    # Theme files are published as they are: a link to /proc/self/environ or ~/.ssh
    # in static/ would put its target on the web.
    _refuse_outside_links(root / "themes" / config.theme, root, problems)

    real_dirs: dict[str, Path] = {}

    def gather(paths: list[str], read: Callable[[str], _Found | Problem]) -> list[_Found]:
        found: list[_Found] = []
        for path in paths:
            result = read(path)
            if isinstance(result, Problem):
                problems.append(result)
            else:
                found.append(result)
        return found

    def read_all(paths: list[str]) -> list[SourceText]:
        return gather(paths, lambda path: _read_remembered(
            path, root, config.max_file_size, real_dirs, memo, links_checked))

    def find_all(paths: list[str], leave: Callable[[str], bool]) -> list[Found]:
        """read_all, for the files the index may know (articles and sidecars); those
        `leave` (given the path) is true for may be left pending."""
        if index is None and not defer:
            return list(read_all(paths))
        return gather(paths, lambda path: _read_indexed(
            path, root, config.max_file_size, real_dirs, index, links_checked,
            defer and leave(path)))

    articles_dir = content / "articles"
    articles = find_all(_files(articles_dir, ".md", listings), lambda path: True)
    sidecar_paths = (_files(articles_dir, ".yaml", listings)
                     + _files(articles_dir, ".yml", listings))
    # A sidecar is left for the analysis with its article: one without (an orphan, or
    # beside an article read here) is read here, and so are both of a stem with a .yaml
    # and a .yml sidecar (only one is used, but both must be readable, as on any build).
    deferred = {stem_of(a.src_rel) for a in articles if isinstance(a, PendingSource)}
    stems = Counter(stem_of(path) for path in sidecar_paths) if deferred else Counter()
    sidecars = {stem_of(s.src_rel): s for s in find_all(
        sidecar_paths, lambda path: stem_of(path) in deferred and stems[stem_of(path)] == 1)}
    registries = {}
    for name in ("topics", "people"):
        path = content / f"{name}.yaml"
        found = read_all([str(path)]) if path.is_file() else []
        registries[name] = found[0] if found else None
    return SourceSet(
        articles=tuple(articles),
        sidecars=sidecars,
        topics=registries["topics"],
        people=registries["people"],
        pages=tuple(read_all(_files(content / "pages", ".md", listings))),
        editions=tuple(read_all(_files(content / "digests", ".yaml", listings))),
    ), problems


def _refuse_outside_links(folder: Path, root: Path, problems: list[Problem],
                          listings: Listings | None = None) -> bool:
    """`folder` and every symbolic link below it must stay inside the project. True
    when the folder lies inside and holds no symbolic link (so nothing below can lead
    out); linked folders are not entered, so links below them are not known here.
    Each folder's entries, sorted by name, go into `listings` (by its path)."""
    if not folder.is_dir() and not folder.is_symlink():
        return False
    real_root = root.resolve()
    hint = "copy the file into the project instead of linking to it"
    if (message := _outside(folder, real_root, "folder")) is not None:
        problems.append(Problem(_rel(folder, root), 1, 1, message, hint, code="symlink"))
        return False
    no_links = True
    # Linked folders are not entered, so each link is seen once, here. scandir knows
    # each entry's type without a stat: this runs on every rebuild of `digest serve`.
    pending = [os.fspath(folder)]
    while pending:
        path = pending.pop()
        try:
            with os.scandir(path) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:  # unreadable: as os.walk, skip it (reading its files will fail)
            no_links = False
            continue
        if listings is not None:
            listings[path] = entries
        for entry in entries:
            if entry.is_symlink():
                no_links = False
                if (message := _outside(entry.path, real_root)) is not None:
                    problems.append(Problem(_rel(entry.path, root), 1, 1, message, hint,
                                            code="symlink"))
            elif entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
    return no_links


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """Split `---` YAML front matter off Markdown: (yaml or None, body, body's first line)."""
    if not text.startswith("---\n"):
        return None, text, 1
    end = text.find("\n---", 3)
    while end != -1 and text[end + 4:end + 5] not in ("\n", ""):
        end = text.find("\n---", end + 4)
    if end == -1:
        return None, text, 1
    front = text[4:end + 1]
    body = text[end + 5:]
    body_line = text.count("\n", 0, end + 5) + 1
    return front, body, body_line
