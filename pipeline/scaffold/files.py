"""Writing a set of files all or nothing: new files (never over an existing one) and changes
to existing ones.

A scaffold that stops half way leaves a folder without its registry line or a registry line
without its folder: either breaks every module that imports the registry (or the test that
checks them against each other), and the next run refuses the name as taken. So anything that
fails undoes what was done before it: new files and the folders made for them are removed,
changed files get their bytes back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path, PurePosixPath


def write_all(root: Path, new: Mapping[PurePosixPath, str],
              changed: Mapping[PurePosixPath, str]) -> None:
    """Creates ``new`` and rewrites ``changed`` (paths from ``root``), or raises with nothing
    of either left behind."""
    made: list[Path] = []  # files and folders, in the order they were made
    originals: dict[Path, bytes] = {}
    try:
        for relative, text in new.items():
            path = root / relative
            _make_folders(path.parent, made)
            with path.open("x", encoding="utf-8", newline="") as file:  # "x": never over one
                made.append(path)
                file.write(text)
        for relative, text in changed.items():
            path = root / relative
            originals[path] = path.read_bytes()
            path.write_bytes(text.encode())
    except BaseException:
        for path, data in originals.items():
            path.write_bytes(data)
        for path in reversed(made):
            with contextlib.suppress(OSError):  # a folder something else wrote into stays
                if path.is_dir():
                    path.rmdir()
                else:
                    path.unlink()
        raise


def _make_folders(folder: Path, made: list[Path]) -> None:
    """Makes the missing folders of ``folder``'s path, outermost first, recording each."""
    for each in reversed([parent for parent in (folder, *folder.parents)
                          if not parent.exists()]):
        each.mkdir()
        made.append(each)
