"""The README's "Where things live" lists every folder of the repository and nothing else.

The map is a tree of folders (two spaces a level); ``<name>`` and ``<package>`` are generic
rows, standing for any folder of that place (a tenant service and its package), so adding a
tenant service needs no README change while a folder nobody described fails here.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import PurePosixPath

from pipeline.project import PROJECT_ROOT
from tenant_context.tenant_services import TENANT_SERVICES

SECTION = "### Where things live"
ENTRY = re.compile(r"^( *)(\S+/)(?:\s|$)")
DESCRIPTION_COLUMN = 30  # deeper lines continue a description


def readme_folders() -> list[str]:
    text = (PROJECT_ROOT / "README.md").read_text()
    block = text.split(SECTION, 1)[1].split("```", 2)[1]
    folders: list[str] = []
    parents: list[str] = []
    for line in block.splitlines():
        match = ENTRY.match(line)
        if not match or len(match.group(1)) >= DESCRIPTION_COLUMN:
            continue
        depth = len(match.group(1)) // 2
        parents = [*parents[:depth], match.group(2).rstrip("/")]
        folders.append("/".join(parents))
    return folders


def repository_folders() -> set[str]:
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                           cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    folders = set()
    for name in files.stdout.splitlines():
        if (PROJECT_ROOT / name).exists():
            folders |= {str(parent) for parent in PurePosixPath(name).parents
                        if str(parent) != "."}
    return folders


def on_map(folder: str, entry: str) -> bool:
    """``folder`` is the one ``entry`` names (a generic ``<...>`` part: any one folder name)."""
    return re.fullmatch(re.sub(r"<[a-z]+>", "[^/]+", re.escape(entry)), folder) is not None


def test_every_folder_is_on_the_map_and_nothing_else() -> None:
    listed = readme_folders()
    assert len(listed) == len(set(listed)), "a folder is listed twice"
    actual = repository_folders()
    unlisted = sorted(folder for folder in actual
                      if not any(on_map(folder, entry) for entry in listed))
    assert unlisted == []
    missing = sorted(entry for entry in listed
                     if not any(on_map(folder, entry) for folder in actual))
    assert missing == []


def test_a_generic_row_stands_for_one_folder_of_its_place() -> None:
    assert on_map("product_service", "<name>_service")
    assert on_map("order_service/chalicelib/order_book", "<name>_service/chalicelib/<package>")
    assert not on_map("tests/product_service", "<name>_service")
    assert not on_map("shared_services", "<name>_service")
    assert not on_map("pipeline/stacks/extra", "pipeline/stacks")


def test_the_generic_rows_stand_for_the_tenant_services() -> None:
    listed = readme_folders()
    assert "<name>_service/chalicelib/<package>" in listed
    assert "tests/<name>_service" in listed
    assert not [entry for entry in listed
                if entry.split("/")[0] in {service.folder for service in TENANT_SERVICES}]
