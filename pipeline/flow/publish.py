"""Putting results where users look, atomically, and moving originals out of the inbox.

Everything is first written into a staging folder on the outbox's own filesystem
(``outbox/.staging/``, hidden) and then renamed into place, so a user never sees a half-written
folder. A newer revision replaces the folder and keeps the previous files under ``history/rN/``."""

from __future__ import annotations

import contextlib
import filecmp
import os
import shutil
import stat
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

from pipeline.atomic import make_temp_dir
from pipeline.flow.intake_file import OPEN_FLAGS, Changing


def staging_dir(outbox: Path) -> Path:
    return make_temp_dir(outbox / ".staging")


#: Windows flushes a file only through a handle that may write to it.
_SYNC_MODE, _SYNC_FLAGS = ("r+b", os.O_RDWR) if os.name == "nt" else ("rb", os.O_RDONLY)


def fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open(_SYNC_MODE) as fh:
                os.fsync(fh.fileno())
    fsync_dir(folder)


def fsync_file(path: Path) -> None:
    """``path``'s data on disk."""
    fd = os.open(path, _SYNC_FLAGS)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Make a folder's entries (renames into it) durable. Windows cannot open a folder as a file and
    NTFS journals its metadata itself: nothing to do there."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


#: Files synced at once by ``side_by_side``. An fsync waits for the disk without holding Python, and
#: the file system commits its journal once for all the syncs waiting on it, so a group's files are
#: on disk in about the time of a few syncs instead of one after another (~7 a docx-only audit).
SYNC_THREADS = 8
_pool: tuple[int, ThreadPoolExecutor] | None = None


def side_by_side(calls: Sequence[Callable[[], object]]) -> list[Exception | None]:
    """Run ``calls`` (syncs, mostly) in a few threads; each one's error, or None, in order."""
    global _pool
    if len(calls) < 2:
        errors: list[Exception | None] = []
        for call in calls:
            try:
                call()
                errors.append(None)
            except Exception as exc:
                errors.append(exc)
        return errors
    if _pool is None or _pool[0] != os.getpid():  # (a forked worker has none of its parent's threads)
        _pool = (os.getpid(), ThreadPoolExecutor(SYNC_THREADS, thread_name_prefix="certpipe-sync"))
    futures = [_pool[1].submit(call) for call in calls]
    return [future.exception() for future in futures]


def seal(stage: Path, revision: int, *also: Path) -> None:
    """``stage`` marked with its revision and on disk with every file in it, and the files ``also``
    (``publish`` of a sealed folder syncs nothing again)."""
    (stage / ".revision").write_text(str(revision))
    fsync_tree(stage)
    for path in also:
        fsync_file(path)


def published_revisions(dest: Path) -> dict[int, str]:
    """The revisions ``dest`` holds (itself and ``history/r<n>``) with the content hash each was made
    from (``.sha256``; "" where unknown)."""
    found = {}
    for folder in (dest, *sorted((dest / "history").glob("r*"))):
        revision = revision_of(folder) if folder == dest else int(folder.name[1:]) if folder.name[1:].isdigit() else 0
        if revision:
            try:
                found[revision] = (folder / ".sha256").read_text()
            except OSError:
                found[revision] = ""
    return found


def revision_of(folder: Path) -> int:
    marker = folder / ".revision"
    try:
        return int(marker.read_text())
    except (OSError, ValueError):
        return 0


def publish(stage: Path, dest: Path, *, revision: int = 1) -> Path:
    """Rename the finished ``stage`` folder (directly in ``outbox/.staging``) to ``dest``. When ``dest``
    holds an older revision its files move to ``dest/history/r<old>/``; a stale equal revision (a
    re-run after a crash) is replaced; an older revision than the one there goes to ``history/``
    itself. Callers publishing
    to the same ``dest`` from several processes hold ``lock.file_lock`` around it. A crash at any
    point leaves either the old or the new folder in place (see ``cleanup_staging``). The files are
    on disk before the rename; the rename itself is once the caller syncs ``dest.parent``
    (``fsync_dir``; once for a group of folders published together). A folder ``seal``-ed for
    this revision is not synced again."""
    if revision_of(stage) != revision:
        seal(stage, revision)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists() and revision_of(dest) > revision:
        # a newer revision is already published (workers finish in any order): this one is history
        kept = dest / "history" / f"r{revision}"
        if kept.exists():
            shutil.rmtree(stage)
        else:
            kept.parent.mkdir(exist_ok=True)
            os.rename(stage, kept)
        fsync_dir(kept.parent)
        return dest
    if not dest.exists():
        os.rename(stage, dest)
    else:
        (dest / ".dest").write_text(str(dest), encoding="utf-8")
        parked = stage.parent / f"{stage.name}.old"  # in outbox/.staging: found by cleanup_staging
        os.rename(dest, parked)
        try:
            os.rename(stage, dest)
        except BaseException:
            os.rename(parked, dest)
            raise
        _keep_history(parked, dest)
    return dest


def _keep_history(parked: Path, dest: Path) -> None:
    """Move the replaced folder's history, and its files when it was an older revision, into
    ``dest/history``; then drop what is left of it."""
    old_rev, new_rev = revision_of(parked), revision_of(dest)
    history = dest / "history"
    if (parked / "history").is_dir():
        history.mkdir(exist_ok=True)
        for item in (parked / "history").iterdir():
            if not (history / item.name).exists():
                os.rename(item, history / item.name)
    if old_rev and old_rev < new_rev:
        keep = history / f"r{old_rev}"
        keep.mkdir(parents=True, exist_ok=True)
        for item in parked.iterdir():
            if item.name not in ("history", ".revision", ".dest") and not (keep / item.name).exists():
                os.rename(item, keep / item.name)
    shutil.rmtree(parked, ignore_errors=True)


def archive_copy(path: Path, archive: Path, *, today: date | None = None, identity=None) -> Path:
    """Put a copy of an input into ``archive/<date>/`` (a hard link where it can), never overwriting;
    returns it. The original stays in the inbox: see ``archive_original``. With ``identity`` (an
    inbox file archived unread: too large), ``path`` is never followed through a link and must still
    be that file (``intake_file.Changing`` otherwise)."""
    folder = archive / (today or date.today()).isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    stem, suffix = os.path.splitext(path.name)
    same_fs = _same_fs(path, folder)
    n = 1
    while True:
        target = folder / (path.name if n == 1 else f"{stem}-{n}{suffix}")
        n += 1
        try:
            if same_fs:
                # claims the name atomically: two workers never pick the same one
                os.link(path, target, follow_symlinks=identity is None)
                if identity is not None and not _is(target, identity):
                    target.unlink()
                    raise Changing()
            else:
                with open(target, "xb") as out, _opened(path, identity) as src:
                    shutil.copyfileobj(src, out)
                    out.flush()
                    os.fsync(out.fileno())
        except FileExistsError:
            if _same_file(path, target):  # copied before by a run stopped before the original went
                return target
            continue
        except FileNotFoundError:
            raise
        except OSError:  # no hard links here (some network shares): copy instead
            if not same_fs:
                raise
            same_fs, n = False, n - 1
            continue
        return target


def _is(path: Path, identity) -> bool:
    st = os.lstat(path)
    return stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino, st.st_size) == (identity.dev, identity.ino,
                                                                                identity.size)


@contextlib.contextmanager
def _opened(path: Path, identity):
    """``path`` opened for reading; with ``identity``, without following a link and only if it is that file."""
    if identity is None:
        with open(path, "rb") as fh:
            yield fh
        return
    fd = os.open(path, OPEN_FLAGS)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino, st.st_size) != (identity.dev, identity.ino,
                                                                                 identity.size):
        os.close(fd)
        raise Changing()
    with os.fdopen(fd, "rb") as fh:
        yield fh


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b) or filecmp.cmp(a, b, shallow=False)
    except OSError:
        return False


def leave_inbox(path: Path, copy: Path) -> None:
    """Remove an original whose archive ``copy`` is on disk (its folder synced). When the inbox is
    read-only the original stays where it is, and only there: the copy goes."""
    try:
        os.unlink(path)
    except FileNotFoundError:  # someone took it meanwhile: the archive copy stands
        pass
    except OSError:
        copy.unlink(missing_ok=True)
        raise


def archive_original(path: Path, archive: Path, *, today: date | None = None) -> Path:
    """Move an input out of the inbox into ``archive/<date>/``: copied, the copy synced, then the
    original removed and the inbox synced — never only in a folder whose entry is not yet on disk."""
    copy = archive_copy(path, archive, today=today)
    fsync_dir(copy.parent)
    leave_inbox(path, copy)
    sync_quietly(path.parent)
    return copy


def sync_quietly(folder: Path) -> None:
    """``fsync_dir`` where the folder allows it (a read-only or vanished inbox does not)."""
    with contextlib.suppress(OSError):
        fsync_dir(folder)


def _same_fs(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_dev == b.stat().st_dev
    except OSError:
        return False


def cleanup_staging(outbox: Path) -> None:
    """Tidy what a crashed run left in staging (never visible to users). A replaced folder parked as
    ``*.old`` goes back where it was if the new one never arrived, or gives its history to it."""
    folder = outbox / ".staging"
    if not folder.is_dir():
        return
    for parked in folder.glob("*.old"):
        try:
            dest = Path((parked / ".dest").read_text(encoding="utf-8"))
        except OSError:
            continue
        if dest.exists():
            _keep_history(parked, dest)
        else:
            os.rename(parked, dest)
    for item in folder.iterdir():
        shutil.rmtree(item, ignore_errors=True) if item.is_dir() else item.unlink(missing_ok=True)
