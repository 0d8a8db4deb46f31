"""A release's id: which code a deployment runs, as the rows record it.

From git: the commit (12 hex digits), and for a working tree with changes the commit plus a
digest of those changes (``<commit>-dirty-<digest>``), so two different sets of uncommitted
changes are never taken for the same release, and releasing the same tree twice is a no-op.
An id given by hand (``RELEASE_ID=...``, for example a CI build's) is checked the same way
everywhere: letters, digits and ``. _ -``, at most 64 characters (it names S3 keys and
executions).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

RELEASE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class ReleaseIdError(ValueError):
    pass


def checked(release_id: str) -> str:
    if not RELEASE_ID.fullmatch(release_id):
        raise ReleaseIdError(f"release id {release_id!r}: 1-64 letters, digits and . _ - "
                             f"(first a letter or digit)")
    return release_id


def _git(root: Path, *arguments: str) -> bytes:
    return subprocess.run(["git", *arguments], cwd=root, capture_output=True,
                          check=True).stdout


def working_tree_release(root: Path) -> str:
    """The id of the code in ``root`` as it is now."""
    try:
        commit = _git(root, "rev-parse", "--short=12", "HEAD").decode().strip()
        changed = _git(root, "status", "--porcelain", "--untracked-files=all", "-z")
        if not changed:
            return commit
        digest = hashlib.sha256(_git(root, "diff", "HEAD", "--binary"))
        for entry in filter(None, changed.split(b"\0")):
            if entry.startswith(b"?? "):  # untracked: its name and content
                name = entry[3:]
                digest.update(name)
                path = root / name.decode()
                if path.is_file():
                    digest.update(path.read_bytes())
    except (OSError, subprocess.CalledProcessError) as error:
        raise ReleaseIdError(f"no release id from git in {root} ({error}): give one with "
                             f"--release-id (RELEASE_ID=...)") from error
    return f"{commit}-dirty-{digest.hexdigest()[:8]}"
