"""Small files where the lake and checkpoints live, without Spark: local folders or object stores.

The stream's lease, `afl stream status` and Dagster's observer read and write a few small
files beside the checkpoints and the Delta logs. They must not start a JVM for that, and
they must work unchanged when ``AFL_CHECKPOINT_ROOT`` is ``s3a://bucket/checkpoints``:
pyarrow's filesystems speak both (``s3a://`` is Hadoop's name for ``s3://``).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from urllib.parse import urlparse

from pyarrow import fs as pafs

# Hadoop's scheme names -> pyarrow's.
_SCHEMES = {"s3a": "s3", "s3n": "s3", "gs": "gs", "abfss": "abfs"}


def _resolve(uri: str) -> tuple[pafs.FileSystem, str]:
    scheme = urlparse(uri).scheme
    if len(scheme) <= 1:  # a local path (a Windows drive letter is not a scheme)
        return pafs.LocalFileSystem(), os.path.abspath(uri)
    if scheme == "file":
        return pafs.LocalFileSystem(), urlparse(uri).path
    mapped = _SCHEMES.get(scheme, scheme)
    filesystem, path = pafs.FileSystem.from_uri(mapped + uri[len(scheme) :])
    return filesystem, path


def read_text(uri: str) -> str | None:
    """A small file's text, or None when it does not exist."""
    filesystem, path = _resolve(uri)
    try:
        with filesystem.open_input_stream(path) as stream:
            text: str = stream.read().decode()
            return text
    except FileNotFoundError:
        return None


def write_text(uri: str, text: str) -> None:
    """Replace a small file whole: a reader sees the old content or the new, never half.

    Locally through a temporary file and a rename; on an object store one PUT is atomic.
    """
    filesystem, path = _resolve(uri)
    parent = path.rsplit("/", 1)[0]
    filesystem.create_dir(parent, recursive=True)
    if isinstance(filesystem, pafs.LocalFileSystem):
        temporary = f"{parent}/.{uuid.uuid4().hex}.tmp"
        with filesystem.open_output_stream(temporary) as stream:
            stream.write(text.encode())
        os.replace(temporary, path)
    else:
        with filesystem.open_output_stream(path) as stream:
            stream.write(text.encode())


def delete(uri: str) -> None:
    """Remove a file; nothing to do when it is already gone."""
    filesystem, path = _resolve(uri)
    with contextlib.suppress(FileNotFoundError):
        filesystem.delete_file(path)


def list_names(uri: str) -> list[str]:
    """File and folder names directly under a folder ([] when it does not exist)."""
    filesystem, path = _resolve(uri)
    selector = pafs.FileSelector(path, allow_not_found=True)
    return sorted(info.base_name for info in filesystem.get_file_info(selector))
