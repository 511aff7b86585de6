"""Nothing lost: path checks and atomic writes confined to the output folder.

Every file the pipeline creates goes through :class:`OutputDir`: it is written to a temporary file in
``OUTPUT/.smoothie/tmp`` (same file system), flushed and moved into place with ``os.replace``, so a
reader, or a run killed at any instant, sees either the old file or the complete new one. A file whose
bytes would not change is not touched at all, so a second identical run leaves every file as it was.

Three rules keep everything outside the output folder, and the user's own files inside it, safe:

* **No link is followed.** Every component of a path inside the output folder is checked with
  ``lstat`` before anything is created, written, read back or removed there; a symbolic link (or a
  Windows junction) anywhere on the way stops the run with a message naming it, before it is used.
  (The output folder itself may be reached through a link: that path is the user's own choice.)
* **Only the pipeline's own files are replaced or removed.** The ledger (:attr:`OutputDir.files`,
  saved in the state) records the size, modification time and a hash of every file the pipeline
  wrote; a file at an output path that is not in it, or that changed since, belongs to the user and is
  never overwritten or deleted (:class:`ForeignFileError`).
* **A folder that is not a Smoothie output is not used** unless asked (``force``): see
  :func:`check_output_folder`.

Output files get the usual permissions (``0666`` less the process umask), like any file a program
creates; the temporary file's private ``0600`` is not kept.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple, TextIO

logger = logging.getLogger(__name__)

STATE_DIRNAME = ".smoothie"
TMP_DIR = f"{STATE_DIRNAME}/tmp"
STATE_MARKER = f"{STATE_DIRNAME}/state.jsonl"
TMP_PREFIX = ".tmp-"
# Files operating systems drop into folders; they do not make a folder "not empty".
SYSTEM_FILES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
_REPARSE_POINT = getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0x400)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)


class PrepError(ValueError):
    """Bad user input found before any work starts (paths, options files); the message says what and why."""


class PathError(PrepError):
    """An input/output folder or path that may not be used; the message names the path and the problem."""


class ForeignFileError(PathError):
    """A file at an output path that the pipeline did not write (or that changed since): never replaced."""


class FileRec(NamedTuple):
    """What the ledger knows of one output file the pipeline wrote."""

    key: str  # digest of what produced it ("" when only claimed, see OutputDir.claim)
    size: int  # -1: claimed before writing (a run killed between the write and the state save)
    mtime_ns: int
    sha: str  # first 32 hex digits of the SHA-256 of its bytes ("" when claimed or unknown)


def is_link(st: os.stat_result) -> bool:
    """A symbolic link, or a Windows junction/reparse point (``lstat`` result)."""
    return stat.S_ISLNK(st.st_mode) or bool(getattr(st, "st_file_attributes", 0) & _REPARSE_POINT)


def check_folders(input_dir: Path | str, output_dir: Path | str, *others: Path | str | None) -> tuple[Path, Path]:
    """Resolve and validate the two folders; returns them resolved.

    The input must be an existing folder; the output may not be the input, inside it, or contain it (so
    outputs can never be mistaken for originals and originals never overwritten). ``others`` (a folder of
    class examples) may not be inside the output either. An empty path is refused (it would mean the
    current directory).
    """
    if not str(input_dir).strip():
        raise PathError("input folder: no path given")
    if not str(output_dir).strip():
        raise PathError("output folder: no path given (an empty path would mean the current folder)")
    src = Path(input_dir).expanduser()
    dst = Path(output_dir).expanduser()
    if not src.exists():
        raise PathError(f"input folder {str(src)!r} does not exist")
    if not src.is_dir():
        raise PathError(f"input folder {str(src)!r} is not a folder")
    src = src.resolve()
    dst = dst.resolve()
    if dst.exists() and not dst.is_dir():
        raise PathError(f"output folder {str(dst)!r} exists and is not a folder")
    if dst == src:
        raise PathError(f"output folder {str(dst)!r} is the input folder; choose a separate folder")
    if src in dst.parents:
        raise PathError(f"output folder {str(dst)!r} is inside the input folder {str(src)!r}; choose one outside it")
    if dst in src.parents:
        raise PathError(f"input folder {str(src)!r} is inside the output folder {str(dst)!r}; choose another output")
    for other in others:
        if other is None or not str(other).strip():
            continue
        o = Path(other).expanduser().resolve()
        if o == dst or dst in o.parents:
            raise PathError(f"folder {str(o)!r} is inside the output folder {str(dst)!r}")
    return src, dst


def holds_state(root: Path) -> bool:
    """Whether ``root`` is an output folder of this pipeline (its ``.smoothie/state.jsonl`` is there)."""
    try:
        return stat.S_ISREG(os.lstat(Path(root) / STATE_MARKER).st_mode) and not is_link(
            os.lstat(Path(root) / STATE_DIRNAME)
        )
    except OSError:
        return False


def user_entries(root: Path, limit: int = 3) -> list[str]:
    """Up to ``limit`` names in ``root`` that are not the pipeline's state or an OS's folder clutter."""
    found: list[str] = []
    try:
        with os.scandir(root) as entries:
            for entry in entries:
                if entry.name == STATE_DIRNAME or entry.name.lower() in SYSTEM_FILES:
                    continue
                found.append(entry.name)
                if len(found) >= limit:
                    break
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise PathError(f"output folder {str(root)!r} cannot be read: {exc.strerror or exc}") from None
    return sorted(found)


def check_output_folder(root: Path, force: bool = False) -> None:
    """Refuse an output folder that already holds files but no Smoothie state, unless ``force``.

    Such a folder is someone's: its files could carry the names of the pipeline's outputs
    (``report.json``, ``img/``…). With ``force`` it is used, and its files are still never replaced
    (see :class:`ForeignFileError`).
    """
    if force or holds_state(root):
        return
    names = user_entries(root)
    if names:
        shown = ", ".join(repr(n) for n in names)
        raise PathError(
            f"output folder {str(root)!r} is not empty ({shown}…) and holds no earlier Smoothie run; choose an "
            "empty or new folder, or pass --force to use it anyway (its files are never overwritten)"
        )


def _umask() -> int:
    """The process umask, read without changing it where the OS allows (no race with other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it, and put it back at once
    os.umask(mask)
    return mask


class OutputDir:
    """The output folder: every write lands inside it, atomically, through no link, over no user file."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser().resolve()
        self.state_dir = self.root / STATE_DIRNAME
        self.tmp_dir = self.root / TMP_DIR
        self.files: dict[str, FileRec] = {}  # the ledger: output path -> what the pipeline wrote there
        self.left: list[str] = []  # stale outputs left in place because they were changed since
        self.mode = 0o666 & ~_umask()

    # -- paths ------------------------------------------------------------------------------------------

    def path(self, rel: str) -> Path:
        """The absolute path of ``rel``; refuses anything that is not a plain relative path inside the folder."""
        if not rel or os.path.isabs(rel) or "\\" in rel or "\x00" in rel:
            raise PathError(f"output path {rel!r}: must be a relative path with '/' separators")
        parts = rel.split("/")
        if any(p in ("", ".", "..") for p in parts):
            raise PathError(f"output path {rel!r} resolves outside the output folder {str(self.root)!r}")
        return self.root.joinpath(*parts)

    def lstat(self, rel: str) -> os.stat_result | None:
        """``lstat`` of ``rel`` (None when it does not exist), after checking that no component on the way
        is a link or a non-folder. Raises :class:`PathError` naming the link."""
        self.path(rel)
        current = self.root
        parts = rel.split("/")
        for i, part in enumerate(parts):
            current = current / part
            try:
                st = os.lstat(current)
            except FileNotFoundError:
                return None
            except NotADirectoryError:
                raise PathError(f"output path {str(current.parent)!r} is not a folder") from None
            except OSError as exc:
                raise PathError(f"output path {str(current)!r} cannot be read: {exc.strerror or exc}") from None
            if is_link(st):
                raise PathError(
                    f"{str(current)!r} is a symbolic link (or junction) inside the output folder; Smoothie never "
                    "writes or deletes through a link: remove the link or choose another output folder"
                )
            if i < len(parts) - 1 and not stat.S_ISDIR(st.st_mode):
                raise PathError(f"output path {str(current)!r} is not a folder")
        return st

    def _makedirs(self, rel_dir: str) -> None:
        """Create the folders of ``rel_dir`` one by one, refusing any link on the way."""
        current = self.root
        for part in rel_dir.split("/"):
            current = current / part
            try:
                st = os.lstat(current)
            except FileNotFoundError:
                try:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(current)
                    st = os.lstat(current)
                except OSError as exc:
                    raise _write_error(current, exc) from None
            if is_link(st):
                raise PathError(
                    f"{str(current)!r} is a symbolic link (or junction) inside the output folder; Smoothie never "
                    "writes or deletes through a link: remove the link or choose another output folder"
                )
            if not stat.S_ISDIR(st.st_mode):
                raise PathError(f"output path {str(current)!r} exists and is not a folder")

    # -- set-up -----------------------------------------------------------------------------------------

    def check(self, names: Iterable[str] = (), trees: Iterable[str] = ()) -> None:
        """Refuse, before anything is written, links and non-files where the pipeline will write.

        ``names``: files it writes (checked: no link on the way, a regular file when present);
        ``trees``: folders it writes into (checked with everything below them, links not followed).
        The state folder and its files are always checked.
        """
        if self.root.exists() and not self.root.is_dir():
            raise PathError(f"output folder {str(self.root)!r} exists and is not a folder")
        for rel in (STATE_DIRNAME, TMP_DIR):
            st = self.lstat(rel)
            if st is not None and not stat.S_ISDIR(st.st_mode):
                raise PathError(f"{str(self.path(rel))!r} exists and is not a folder")
        for rel in [STATE_MARKER, f"{STATE_DIRNAME}/edits.json", *names]:
            st = self.lstat(rel)
            if st is not None and not stat.S_ISREG(st.st_mode):
                raise PathError(f"output path {str(self.path(rel))!r} exists and is not a regular file")
        for rel in [TMP_DIR, *trees]:
            st = self.lstat(rel)
            if st is None:
                continue
            if not stat.S_ISDIR(st.st_mode):
                raise PathError(f"output path {str(self.path(rel))!r} exists and is not a folder")
            for dirpath, dirnames, filenames in os.walk(self.path(rel), followlinks=False):
                for name in dirnames + filenames:
                    full = Path(dirpath) / name
                    try:
                        st = os.lstat(full)
                    except OSError as exc:
                        raise PathError(f"{str(full)!r} cannot be read: {exc.strerror or exc}") from None
                    if is_link(st):
                        raise PathError(
                            f"{str(full)!r} is a symbolic link (or junction) inside the output folder; Smoothie "
                            "never writes or deletes through a link: remove the link or choose another output folder"
                        )

    def prepare(self) -> None:
        """Create the folder and its state folder (after :meth:`check`); remove a killed run's temporary files."""
        self.check()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _write_error(self.root, exc) from None
        self._makedirs(TMP_DIR)
        try:
            with os.scandir(self.tmp_dir) as entries:
                leftovers = [e for e in entries if e.name.startswith(TMP_PREFIX)]
        except OSError as exc:
            raise PathError(f"{str(self.tmp_dir)!r} cannot be read: {exc.strerror or exc}") from None
        for entry in leftovers:  # only our own temporary files, never through a link
            if entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)

    # -- ownership --------------------------------------------------------------------------------------

    def owns(self, rel: str, st: os.stat_result | None = None) -> bool:
        """Whether the file at ``rel`` is one the pipeline wrote and nobody changed since (True when absent)."""
        if st is None:
            st = self.lstat(rel)
            if st is None:
                return True
        if not stat.S_ISREG(st.st_mode):
            return False
        if rel.startswith(STATE_DIRNAME + "/"):
            return True  # the state folder is the pipeline's (its links and non-files are refused earlier)
        rec = self.files.get(rel)
        if rec is None:
            return False
        if rec.size < 0 or not rec.sha:  # claimed before writing: only this pipeline could have put it there
            return True
        if st.st_size != rec.size:
            return False
        if st.st_mtime_ns == rec.mtime_ns:
            return True
        return _sha(self.path(rel)) == rec.sha  # copied folders lose mtimes: compare the bytes

    def claim(self, rels: Iterable[str]) -> None:
        """Record output paths the run is about to write that hold nothing yet, before writing them, so a run
        killed after a write but before its state is saved still knows the file is its own."""
        for rel in rels:
            if rel not in self.files and self.lstat(rel) is None:
                self.files[rel] = FileRec("", -1, 0, "")

    def settle(self, rels: Iterable[str]) -> None:
        """Give claimed entries (and those of an older state) the real signature of the file now there."""
        for rel in rels:
            rec = self.files.get(rel)
            if rec is not None and rec.size < 0:
                st = self.lstat(rel)
                if st is not None and stat.S_ISREG(st.st_mode):
                    self.files[rel] = FileRec(rec.key, st.st_size, st.st_mtime_ns, _sha(self.path(rel)))

    def adopt(self, rel: str, key: str = "") -> None:
        """Take the file now at ``rel`` as the pipeline's own (a caption edited by hand, taken over as an edit)."""
        st = self.lstat(rel)
        if st is not None and stat.S_ISREG(st.st_mode):
            self.files[rel] = FileRec(key, st.st_size, st.st_mtime_ns, _sha(self.path(rel)))

    def foreign(self, rels: Iterable[str]) -> list[str]:
        """The paths among ``rels`` that hold a file the pipeline did not write (or one changed since)."""
        return [rel for rel in rels if not self.owns(rel)]

    # -- reading and writing ----------------------------------------------------------------------------

    def read_bytes(self, rel: str, limit: int = 1 << 30) -> bytes | None:
        """The bytes of a regular file at ``rel`` (None when absent); links refused."""
        st = self.lstat(rel)
        if st is None or not stat.S_ISREG(st.st_mode):
            return None
        if st.st_size > limit:
            raise PathError(f"{str(self.path(rel))!r} is larger than {limit} bytes")
        try:
            fd = os.open(self.path(rel), os.O_RDONLY | _NOFOLLOW | _BINARY)
        except FileNotFoundError:
            return None
        with os.fdopen(fd, "rb") as handle:
            return handle.read(limit + 1)

    def open_text(self, rel: str) -> TextIO | None:
        """A text handle (UTF-8, undecodable bytes replaced) on the regular file at ``rel``; None when absent."""
        st = self.lstat(rel)
        if st is None or not stat.S_ISREG(st.st_mode):
            return None
        try:
            fd = os.open(self.path(rel), os.O_RDONLY | _NOFOLLOW | _BINARY)
        except FileNotFoundError:
            return None
        return os.fdopen(fd, "r", encoding="utf-8", errors="replace")

    def write_bytes(self, rel: str, data: bytes, durable: bool = True, key: str = "") -> bool:
        """Write ``data`` to ``rel`` atomically; returns False (and touches nothing) when already identical.

        Refuses (:class:`ForeignFileError`) to replace a file the pipeline did not write. The rename is atomic
        whatever happens to this process; ``durable`` also flushes the data to disk before the rename
        (survives a power cut too): images skip it (a re-run redoes an image whose file is missing).
        """
        st = self.lstat(rel)
        sha = hashlib.sha256(data).hexdigest()[:32]
        if st is not None:
            if stat.S_ISREG(st.st_mode) and st.st_size == len(data) and _sha(self.path(rel)) == sha:
                self._record(rel, key, st, sha)
                return False
            self._refuse_foreign(rel, st)
        self._makedirs_for(rel)
        with self._tmp(rel) as (handle, tmp):
            handle.write(data)
            self._finish(handle, tmp, rel, durable)
        self._record(rel, key, None, sha)
        return True

    def write_text(self, rel: str, text: str, durable: bool = True, key: str = "") -> bool:
        return self.write_bytes(rel, text.encode("utf-8"), durable=durable, key=key)

    def write_chunks(self, rel: str, chunks: Iterable[str], durable: bool = True, key: str = "") -> bool:
        """Like :meth:`write_text` for text produced piece by piece (large files, flat memory): streamed
        to the temporary file, then compared with the existing file by hash before replacing it."""
        st = self.lstat(rel)
        if st is not None and not stat.S_ISREG(st.st_mode):
            self._refuse_foreign(rel, st)
        self._makedirs_for(rel)
        digest = hashlib.sha256()
        size = 0
        with self._tmp(rel) as (handle, tmp):
            for chunk in chunks:
                data = chunk.encode("utf-8")
                digest.update(data)
                size += len(data)
                handle.write(data)
            sha = digest.hexdigest()[:32]
            if st is not None and st.st_size == size and _sha(self.path(rel)) == sha:
                handle.close()
                os.unlink(tmp)
                self._record(rel, key, st, sha)
                return False
            if st is not None:
                self._refuse_foreign(rel, st)
            self._finish(handle, tmp, rel, durable)
        self._record(rel, key, None, sha)
        return True

    def remove(self, rel: str) -> bool:
        """Remove a file this pipeline wrote earlier (stale output); empty parent folders go too.

        A file the pipeline did not write, or that changed since, is left where it is (and forgotten)."""
        st = self.lstat(rel)
        if st is None:
            self.files.pop(rel, None)
            return False
        if not self.owns(rel, st):
            logger.warning("left %s in place: Smoothie did not write it, or it was changed since", self.path(rel))
            self.left.append(rel)
            self.files.pop(rel, None)
            return False
        os.unlink(self.path(rel))
        self.files.pop(rel, None)
        parts = rel.split("/")[:-1]
        while parts:
            try:
                os.rmdir(self.root.joinpath(*parts))
            except OSError:
                break
            parts.pop()
        return True

    # -- internals --------------------------------------------------------------------------------------

    def _refuse_foreign(self, rel: str, st: os.stat_result) -> None:
        if not self.owns(rel, st):
            raise ForeignFileError(
                f"{str(self.path(rel))!r} was not written by Smoothie (or was changed since); it is never "
                "overwritten: move it away, or choose another output folder"
            )

    def _record(self, rel: str, key: str, st: os.stat_result | None, sha: str) -> None:
        if rel.startswith(STATE_DIRNAME + "/"):
            return  # the state folder's own files are not outputs
        if st is None:
            st = os.lstat(self.path(rel))
        self.files[rel] = FileRec(key, st.st_size, st.st_mtime_ns, sha)

    def _makedirs_for(self, rel: str) -> None:
        if "/" in rel:
            self._makedirs(rel.rsplit("/", 1)[0])

    def _finish(self, handle: BinaryIO, tmp: str, rel: str, durable: bool) -> None:
        handle.flush()
        if hasattr(os, "fchmod"):
            os.fchmod(handle.fileno(), self.mode)
        if durable:
            os.fsync(handle.fileno())
        handle.close()
        self.lstat(rel)  # the folders on the way are still no links
        os.replace(tmp, self.path(rel))

    @contextlib.contextmanager
    def _tmp(self, rel: str) -> Iterator[tuple[BinaryIO, str]]:
        self._makedirs(TMP_DIR)
        suffix = "-" + _tail(rel.rsplit("/", 1)[-1], 40)
        try:
            fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=suffix, dir=self.tmp_dir)
        except OSError as exc:
            raise _write_error(self.path(rel), exc) from None
        handle = os.fdopen(fd, "wb")
        try:
            yield handle, tmp
        except OSError as exc:
            handle.close()
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise _write_error(self.path(rel), exc) from None
        except BaseException:
            handle.close()
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        finally:
            if not handle.closed:
                handle.close()


class WriteError(PrepError):
    """The output folder cannot take a file (disk full, read-only, permissions): the run stops, nothing half-written."""


def _write_error(path: Path | str, exc: OSError) -> WriteError:
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        reason = "no space left on the device"
    return WriteError(f"cannot write {str(path)!r}: {reason}")


def _tail(name: str, max_bytes: int) -> str:
    """The end of ``name`` in at most ``max_bytes`` UTF-8 bytes (temporary names stay short)."""
    out = name.encode("utf-8")[-max_bytes:].decode("utf-8", "ignore")
    return out or "x"


def _sha(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _BINARY)
    except OSError:
        return ""
    with os.fdopen(fd, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:32]
