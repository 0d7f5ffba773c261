"""Taking an input from the inbox, and letting it go: the one copy certpipe works from, and the
removal of the original only when it is still what was copied.

- ``take``: the inbox entry is opened without following a link, and only a regular file is read (a
  symlink, FIFO, device, socket or directory named ``*.xlsx`` is ``NotAFile``: never read, copied or
  archived). Its size is checked against ``[limits] max_file_mb`` before a byte is copied
  (``TooLarge``). It is copied into staging and hashed in the same read; a file that changed while it
  was read (still being written) is ``Changing`` and stays for the next pass.
- ``release``: the original leaves the inbox only if it is the file that was taken (device, inode,
  size, modification time, and the content hash): it is first renamed to a hidden name, so nobody
  can put another file in its place between the check and the removal; a newer version found there
  is put back and waits for the next pass. See docs/reliability.md."""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
         | getattr(os, "O_BINARY", 0))
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Identity:
    """Which file was taken: the same path holding another file (or this one rewritten) differs."""

    dev: int
    ino: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> Identity:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class NotAFile(Exception):
    """The inbox entry is not a regular file; ``kind`` says what it is."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class TooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


class Changing(Exception):
    """The file changed while it was being read: it is still being written."""


class NotHidden(OSError):
    """The original could not even be renamed (a read-only inbox): nothing changed in the inbox."""


def kind_of(mode: int) -> str:
    for test, kind in ((stat.S_ISREG, "file"), (stat.S_ISLNK, "link"), (stat.S_ISDIR, "folder"),
                       (stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "device"),
                       (stat.S_ISBLK, "device")):
        if test(mode):
            return kind
    return "other"


@dataclass(frozen=True)
class Taken:
    sha256: str
    size: int
    mtime: float
    identity: Identity


def take(src: Path, dest: Path, *, max_bytes: int) -> Taken:
    """Copy the inbox file ``src`` to ``dest``, hashing what is copied. Raises ``FileNotFoundError``
    (gone), ``NotAFile``, ``TooLarge`` (nothing copied) or ``Changing`` (``dest`` removed)."""
    before = os.lstat(src)
    if not stat.S_ISREG(before.st_mode):
        raise NotAFile(kind_of(before.st_mode))
    if before.st_size > max_bytes:
        raise TooLarge(before.st_size)
    try:
        fd = os.open(src, OPEN_FLAGS)
    except OSError as exc:
        if exc.errno in (getattr(os, "ELOOP", -1), getattr(os, "EMLINK", -1)):  # became a link meanwhile
            raise NotAFile("link") from exc
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != (before.st_dev, before.st_ino):
            raise NotAFile(kind_of(st.st_mode)) if not stat.S_ISREG(st.st_mode) else Changing()
        digest, size = hashlib.sha256(), 0
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(dest, "wb") as out:
            while chunk := os.read(fd, _CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(size)
                digest.update(chunk)
                out.write(chunk)
        after = os.fstat(fd)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)
    if (after.st_size, after.st_mtime_ns) != (st.st_size, st.st_mtime_ns) or size != st.st_size:
        dest.unlink(missing_ok=True)
        raise Changing()
    return Taken(digest.hexdigest(), size, st.st_mtime, Identity.of(st))


def identify(src: Path) -> Identity:
    """The identity of an inbox file, without reading it (a file too large to copy)."""
    st = os.lstat(src)
    if not stat.S_ISREG(st.st_mode):
        raise NotAFile(kind_of(st.st_mode))
    return Identity.of(st)


def sha256_of(path: Path) -> str:
    """The content hash of a file (never read through a link)."""
    digest = hashlib.sha256()
    fd = os.open(path, OPEN_FLAGS)
    try:
        while chunk := os.read(fd, _CHUNK):
            digest.update(chunk)
    finally:
        os.close(fd)
    return digest.hexdigest()


def release(path: Path, identity: Identity, sha256: str | None) -> bool:
    """Remove ``path`` from the inbox if it is still the file taken (``sha256``: its content, when it
    was read). Returns False when another file (or a rewritten one) is there now: it stays, under its
    name, for the next pass. Raises ``FileNotFoundError`` when nothing is there, ``OSError`` when the
    inbox cannot be changed (read-only)."""
    hidden = leaving_name(path)
    try:
        os.rename(path, hidden)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise NotHidden(exc.errno, exc.strerror, str(path)) from exc
    # from here on nothing raises: the archive holds what was processed, and whatever is left under the
    # hidden name is removed or put back by ``recover`` at the next start
    try:
        st = os.lstat(hidden)
        same = (stat.S_ISREG(st.st_mode) and Identity.of(st) == identity
                and (sha256 is None or sha256_of(hidden) == sha256))
    except OSError:
        same = False
    if same:
        with contextlib.suppress(OSError):
            os.unlink(hidden)
        return True
    with contextlib.suppress(OSError):
        _put_back(hidden, path)
    return False


#: The hidden name an original has while it is checked and removed (a dot-file: never an input).
LEAVING = ".certpipe-leaving-"


def leaving_name(path: Path) -> Path:
    """``.certpipe-leaving-<random>-<name>``: the original name kept, so that a process killed in the
    moment between the rename and the removal leaves something ``recover`` can put back."""
    token = uuid.uuid4().hex[:12]
    name = f"{LEAVING}{token}-{path.name}"
    if len(os.fsencode(name)) > 240:  # a very long name: kept short, put back under a made-up name
        name = f"{LEAVING}{token}{path.suffix}"
    return path.with_name(name)


def recover(inbox: Path, processed: Callable[[str], bool]) -> list[Path]:
    """What a killed process left under a hidden name: removed when its content was processed
    (``processed(sha256)``), else put back under its name. Returns the files put back."""
    back = []
    try:
        hidden = [p for p in inbox.iterdir() if p.name.startswith(LEAVING)]
    except FileNotFoundError:
        return back
    for path in hidden:
        try:
            if processed(sha256_of(path)):
                path.unlink()
                continue
            rest = path.name[len(LEAVING):]
            name = rest[13:] if len(rest) > 13 and rest[12] == "-" else f"recovered-{rest}"
            target = inbox / name
            _put_back(path, target)
            back.append(target)
        except OSError:
            continue
    return back


def _put_back(hidden: Path, path: Path) -> None:
    """The file found there was not ours: back under its name (never over a file that arrived since)."""
    try:
        os.link(hidden, path)
    except FileExistsError:  # yet another version arrived meanwhile: ours keeps a visible name beside it
        stem, n = path.stem, 2
        while True:
            candidate = path.with_name(f"{stem} ({n}){path.suffix}")
            if len(os.fsencode(candidate.name)) > 250:
                candidate = path.with_name(f"recovered-{uuid.uuid4().hex[:12]}{path.suffix}")
            try:
                os.link(hidden, candidate)
                break
            except FileExistsError:
                n += 1
    except OSError:  # no hard links here: a rename, when the name is free
        if not os.path.lexists(path):
            os.rename(hidden, path)
            return
        raise
    os.unlink(hidden)
