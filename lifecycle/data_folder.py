"""The data folder as the Settings page shows and switches it: size, free space, writable."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lifecycle.atomic import file_lock, write_text_atomic
from lifecycle.config import chosen_home, home_pointer
from lifecycle.safe_paths import UnsafePathError, check_data_home

HOME_ENV = "LIFECYCLE_HOME"  # wins over a folder chosen in the app


class FolderError(ValueError):
    """A folder the app cannot use; the message says why."""


@dataclass(frozen=True)
class FolderHealth:
    """Where the data folder is, what decided it, and whether the app can write there."""

    path: Path
    source: str  # the LIFECYCLE_HOME variable | the Settings page | the default
    size_bytes: int
    free_bytes: int
    writable: bool
    problem: str = ""  # why it is not writable


def folder_size(path: Path, follow_links: bool = False) -> int:
    """Bytes of the files under path; links are followed only when asked.

    The data folder's size skips links (linked models count where they live); a model to ship
    follows them (a hub snapshot's weights are links into the cache).
    """
    total = 0
    for folder, dirs, files in os.walk(path, followlinks=follow_links):
        for name in files:
            try:
                stat = (os.stat if follow_links else os.lstat)(os.path.join(folder, name))
            except OSError:
                continue
            total += stat.st_size
        if not follow_links:
            dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
    return total


def writable_problem(path: Path) -> str:
    """'' when a file can be created in path, else why not."""
    try:
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as err:
        return f"{path} is not writable: {err.strerror or err}."
    return ""


def folder_health() -> FolderHealth:
    """The current data folder's health (it is not created here: only looked at)."""
    path, source = chosen_home()
    exists = path.is_dir()
    problem = writable_problem(path) if exists else f"{path} does not exist yet."
    probe = path if exists else _existing_parent(path)
    try:
        free = shutil.disk_usage(probe).free
    except OSError:
        free = 0
    size = folder_size(path) if exists else 0
    return FolderHealth(path, source, size, free, not problem, problem)


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_new_home(text: str) -> Path:
    """An absolute folder that exists (created if needed) and is writable, or a FolderError."""
    text = (text or "").strip()
    if not text:
        raise FolderError("Write the full path of a folder, e.g. /home/me/lifecycle-data.")
    path = Path(text).expanduser()
    if not path.is_absolute():
        raise FolderError(
            f"“{text}” is a relative path: write the full path (starting with / or ~), so the "
            "folder does not depend on where the app was started."
        )
    if path.exists() and not path.is_dir():
        raise FolderError(f"{path} is a file, not a folder.")
    try:
        check_data_home(path)
    except UnsafePathError as err:
        raise FolderError(str(err)) from err
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise FolderError(f"Cannot create {path}: {err.strerror or err}.") from err
    problem = writable_problem(path)
    if problem:
        raise FolderError(problem)
    return path


def choose_home(text: str) -> Path:
    """Check the folder, then record it as the data folder (atomically; LIFECYCLE_HOME wins)."""
    if os.environ.get(HOME_ENV):
        raise FolderError(f"{HOME_ENV} is set, so it decides the data folder: unset it first.")
    path = check_new_home(text)
    _write_pointer(str(path))
    return path


def forget_home() -> None:
    """Go back to the default data folder (the repository's ./data)."""
    home_pointer().unlink(missing_ok=True)


def _write_pointer(text: str) -> None:
    pointer = home_pointer()
    try:
        with file_lock(pointer.with_name(f".{pointer.name}.lock")):
            write_text_atomic(pointer, text + "\n")
    except OSError as err:
        raise FolderError(f"Cannot record the choice in {pointer}: {err.strerror or err}.") from err
