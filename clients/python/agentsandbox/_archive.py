"""Streaming helpers for workspace archives: chunked reads of a path or file object with a progress callback,
so neither export nor import holds a whole archive in memory."""
from __future__ import annotations

import os
from typing import IO, Any, Callable, Dict, Iterator, Optional, Tuple, Union

__all__ = ["CHUNK", "Progress", "Source", "Destination", "open_source", "open_destination", "read_chunks",
           "FORMATS", "export_params", "import_params", "upload_headers"]

CHUNK = 256 << 10
#: ``progress(bytes_done, bytes_total_or_None)``, called after each chunk.
Progress = Optional[Callable[[int, Optional[int]], Any]]
Source = Union[str, "os.PathLike[str]", IO[bytes]]
Destination = Union[str, "os.PathLike[str]", IO[bytes]]
FORMATS = ("tar.gz", "tar", "zip")


def export_params(format: str) -> Dict[str, str]:
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}; got {format!r}")
    return {"format": format}


def import_params(mode: str) -> Dict[str, str]:
    if mode not in ("merge", "replace"):
        raise ValueError(f"mode must be 'merge' or 'replace'; got {mode!r}")
    return {"mode": mode}


def open_source(source: Source) -> Tuple[IO[bytes], bool, Optional[int]]:
    """The file to read, whether we opened it (and must close it), and its size when known."""
    if isinstance(source, (str, os.PathLike)):
        handle = open(source, "rb")
        return handle, True, os.fstat(handle.fileno()).st_size
    size: Optional[int] = None
    try:
        if source.seekable():
            start = source.tell()
            size = source.seek(0, os.SEEK_END) - start
            source.seek(start)
    except (AttributeError, OSError, ValueError):
        size = None
    return source, False, size


def open_destination(destination: Destination) -> Tuple[IO[bytes], bool]:
    """The file to write and whether we opened it."""
    if isinstance(destination, (str, os.PathLike)):
        return open(destination, "wb"), True
    return destination, False


def read_chunks(handle: IO[bytes], total: Optional[int], progress: Progress) -> Iterator[bytes]:
    """Chunks of ``handle`` until end of file, reporting progress after each."""
    sent = 0
    while True:
        chunk = handle.read(CHUNK)
        if not chunk:
            return
        sent += len(chunk)
        yield chunk
        if progress is not None:
            progress(sent, total)


def upload_headers(size: Optional[int]) -> Dict[str, str]:
    """Content-Length when the size is known, so the server can refuse an oversized upload at once."""
    headers = {"content-type": "application/octet-stream"}
    if size is not None:
        headers["content-length"] = str(size)
    return headers
