"""Nothing lost: path checks and atomic writes confined to the output folder.

Every file the pipeline creates goes through :class:`OutputDir`: it is written to a temporary file in
``OUTPUT/.smoothie/tmp`` (same file system), flushed, fsynced and moved into place with ``os.replace``, so
a reader, or a run killed at any instant, sees either the old file or the complete new one. A file whose
bytes would not change is not touched at all, so a second identical run leaves every file as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

logger = logging.getLogger(__name__)

STATE_DIRNAME = ".smoothie"


class PrepError(ValueError):
    """Bad user input found before any work starts (paths, options files); the message says what and why."""


class PathError(PrepError):
    """An input/output folder that may not be used; the message names the path and the problem."""


def check_folders(input_dir: Path, output_dir: Path, *others: Path | None) -> tuple[Path, Path]:
    """Resolve and validate the two folders; returns them resolved.

    The input must be an existing folder; the output may not be the input, inside it, or contain it (so
    outputs can never be mistaken for originals and originals never overwritten). ``others`` (a folder of
    class examples) may not be inside the output either.
    """
    src = Path(input_dir).expanduser()
    dst = Path(output_dir).expanduser()
    if not str(input_dir).strip():
        raise PathError("input folder: no path given")
    if not str(output_dir).strip():
        raise PathError("output folder: no path given")
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
        if other is None:
            continue
        o = Path(other).expanduser().resolve()
        if o == dst or dst in o.parents:
            raise PathError(f"folder {str(o)!r} is inside the output folder {str(dst)!r}")
    return src, dst


class OutputDir:
    """The output folder: every write lands inside it, atomically."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.state_dir = self.root / STATE_DIRNAME
        self.tmp_dir = self.state_dir / "tmp"

    def prepare(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        # Leftovers of a killed run: never visible under a final name, removed here.
        for leftover in self.tmp_dir.iterdir():
            with contextlib.suppress(OSError):
                leftover.unlink()

    def path(self, rel: str) -> Path:
        """The absolute path of ``rel``; refuses anything that would land outside the output folder."""
        if not rel or os.path.isabs(rel) or "\\" in rel:
            raise PathError(f"output path {rel!r}: must be a relative path with '/' separators")
        target = (self.root / rel).resolve()
        if target == self.root or self.root not in target.parents:
            raise PathError(f"output path {rel!r} resolves outside the output folder {str(self.root)!r}")
        return target

    def read_bytes(self, rel: str) -> bytes | None:
        try:
            return self.path(rel).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def write_bytes(self, rel: str, data: bytes, durable: bool = True) -> bool:
        """Write ``data`` to ``rel`` atomically; returns False (and touches nothing) when already identical.

        The rename is atomic whatever happens to this process. ``durable`` also flushes the data to disk
        before the rename (survives a power cut too); images skip it (a few ms each, and a re-run redoes
        an image whose file is missing), metadata and state keep it.
        """
        target = self.path(rel)
        try:
            if target.stat().st_size == len(data) and target.read_bytes() == data:
                return False
        except (FileNotFoundError, NotADirectoryError):
            pass
        target.parent.mkdir(parents=True, exist_ok=True)
        with self._tmp(target.name) as (handle, tmp):
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
            handle.close()
            os.replace(tmp, target)
        return True

    def write_text(self, rel: str, text: str, durable: bool = True) -> bool:
        return self.write_bytes(rel, text.encode("utf-8"), durable=durable)

    def write_chunks(self, rel: str, chunks: Iterable[str], durable: bool = True) -> bool:
        """Like :meth:`write_text` for text produced piece by piece (large files, flat memory): streamed
        to the temporary file, then compared with the existing file by hash before replacing it."""
        target = self.path(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        with self._tmp(target.name) as (handle, tmp):
            for chunk in chunks:
                data = chunk.encode("utf-8")
                digest.update(data)
                size += len(data)
                handle.write(data)
            handle.flush()
            if _same_file(target, size, digest.hexdigest()):
                handle.close()
                os.unlink(tmp)
                return False
            if durable:
                os.fsync(handle.fileno())
            handle.close()
            os.replace(tmp, target)
        return True

    def remove(self, rel: str) -> bool:
        """Remove a file this pipeline wrote earlier (stale output); empty parent folders go too."""
        target = self.path(rel)
        try:
            target.unlink()
        except FileNotFoundError:
            return False
        parent = target.parent
        while parent != self.root and self.root in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent
        return True

    @contextlib.contextmanager
    def _tmp(self, name: str) -> Iterator[tuple[BinaryIO, str]]:
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix="-" + name[-40:], dir=self.tmp_dir)
        handle = os.fdopen(fd, "wb")
        try:
            yield handle, tmp
        except BaseException:
            handle.close()
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        finally:
            if not handle.closed:
                handle.close()


def _same_file(path: Path, size: int, sha256: str) -> bool:
    try:
        if path.stat().st_size != size:
            return False
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest() == sha256
    except (FileNotFoundError, NotADirectoryError):
        return False
