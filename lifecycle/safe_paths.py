"""Where the app may write or replace a folder the user typed: never over data it did not make."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lifecycle.config import data_home

REPO = Path(__file__).resolve().parent.parent
EXPORT_MARKER = ".lifecycle-export"  # written into every export: only such folders are replaced


class UnsafePathError(ValueError):
    """A folder the app refuses to write into or replace; the message says why."""


def _protected() -> list[tuple[Path, bool, str]]:
    """(folder, whether its inside is refused too, the reason shown to the user)."""
    return [
        (data_home().resolve(), True, "it is the app's data folder (projects, runs, collections)"),
        (REPO, True, "it is the app's own code"),
        (Path.home().resolve(), False, "it is your home folder"),
    ]


def check_target(target: Path | str, allowed_inside_data: str = "") -> Path:
    """An absolute, resolved folder the app may write to; UnsafePathError when it is not.

    Refused: `/`; the home folder and any folder containing it; the data folder, anything
    inside it (except under `allowed_inside_data`, the app's own area such as `exports`) and
    any folder containing it; the repository, anything inside it and any folder containing it.
    """
    path = Path(target).expanduser()
    if not path.is_absolute():
        raise UnsafePathError(f"“{target}” is a relative path: write the full path.")
    path = path.resolve()
    if path == Path(path.anchor):
        raise UnsafePathError(f"{path} is the root of the file system: pick a folder of its own.")
    if allowed_inside_data and (data_home().resolve() / allowed_inside_data) in path.parents:
        return path
    for folder, inside_too, why in _protected():
        if path == folder or (inside_too and folder in path.parents):
            raise UnsafePathError(
                f"{path} is refused: {why}" + (", or inside it." if inside_too else ".")
            )
        if path in folder.parents:
            raise UnsafePathError(f"{path} is refused: it contains {folder}, and {why}.")
    return path


def written_by_app(folder: Path) -> bool:
    """True when `folder` holds the marker the app writes into its own exports."""
    return (Path(folder) / EXPORT_MARKER).is_file()


def mark(folder: Path, what: str) -> None:
    """Leave the marker that lets the app replace this folder later (and nothing else)."""
    (Path(folder) / EXPORT_MARKER).write_text(f"Written by Lifecycle: {what}\n", encoding="utf-8")


def replace_folder(staging: Path, target: Path) -> None:
    """Move a finished staging folder onto `target`, replacing only an app-written folder."""
    if target.is_dir() and not target.is_symlink() and not any(target.iterdir()):
        target.rmdir()  # an empty folder holds nothing to lose
    if target.exists() or target.is_symlink():
        if target.is_symlink() or not target.is_dir() or not written_by_app(target):
            raise UnsafePathError(
                f"{target} exists and was not written by Lifecycle: pick a new or empty folder."
            )
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)  # swap first, delete after: the target is never half gone
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
        return
    os.replace(staging, target)


def check_data_home(path: Path) -> None:
    """Refuse a new data folder that would mix the app's files with others' (UnsafePathError).

    The default `<repo>/data` and folders the app already uses are fine; `/`, the home folder,
    the repository itself, folders containing them, and non-empty folders that are not a
    Lifecycle data folder are not.
    """
    path = Path(path).resolve()
    if path == (REPO / "data").resolve() or (path / "lifecycle.sqlite").is_file():
        return
    if path == Path(path.anchor):
        raise UnsafePathError(f"{path} is the root of the file system: pick a folder of its own.")
    for folder, inside_too, why in _protected()[1:]:  # the current data folder may hold it
        if path == folder or path in folder.parents or (inside_too and folder in path.parents):
            raise UnsafePathError(f"{path} is refused: {why}.")
    if path.is_dir() and any(p.name != EXPORT_MARKER for p in path.iterdir()):
        raise UnsafePathError(
            f"{path} already holds other files: pick an empty folder or an existing Lifecycle "
            "data folder, so the app never writes over files it did not make."
        )
