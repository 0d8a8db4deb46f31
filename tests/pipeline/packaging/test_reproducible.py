"""Packaging depends only on the sources: two checkouts of one commit, in other folders, under
another time zone, umask, file times and clock (``packaged_elsewhere``), give the same bytes
for every zip and template; the bytecode inside is hash-based and
names Lambda's paths; and a function publishes a new version when its zip or the layer
changes, and only then."""

from __future__ import annotations

import copy
import hashlib
import marshal
import zipfile
from pathlib import Path
from typing import Any

import pytest

from pipeline.packaging.app_packages import with_code_digests
from pipeline.packaging.reproducible_zip import FUNCTION_ROOT, LAYER_ROOT
from pipeline.stacks.baseline_template import LAYER_ZIP
from tests.support.packaged import Packaged

DEPLOYMENTS = ("pooled", "silo")
HASH_BASED_CHECKED = 0b11  # PEP 552: the pyc's flags word


def digests(out: Path) -> dict[str, str]:
    """sha256 of every file ``make package`` wrote that a deployment uploads or reads."""
    files = [path for deployment in DEPLOYMENTS
             for path in (out / "cloudformation" / deployment).iterdir()]
    return {path.relative_to(out).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in [*files, out / "layer" / LAYER_ZIP]}


def test_two_checkouts_package_to_the_same_bytes(packaged: Packaged,
                                                 packaged_elsewhere: Path) -> None:
    mine, theirs = digests(packaged.out), digests(packaged_elsewhere)
    assert len(mine) >= 2 * len(DEPLOYMENTS) + 1
    assert theirs == mine


def archives(packaged: Packaged) -> list[tuple[Path, str]]:
    """Every zip of the package, with where Lambda unpacks it."""
    zips = {path for deployment in DEPLOYMENTS
            for path in packaged.file(deployment).parent.glob("*.zip") if path.name != LAYER_ZIP}
    return [(path, FUNCTION_ROOT) for path in sorted(zips)] + [
        (packaged.out / "layer" / LAYER_ZIP, LAYER_ROOT)]


def test_every_module_ships_hash_based_bytecode_naming_lambdas_paths(packaged: Packaged
                                                                      ) -> None:
    for archive_path, root in archives(packaged):
        with zipfile.ZipFile(archive_path) as archive:
            names = set(archive.namelist())
            modules = sorted(name for name in names if name.endswith(".py"))
            assert modules, archive_path
            for module in modules:
                folder, _, file = module.rpartition("/")
                cached = f"{folder}/__pycache__/{file[:-3]}.cpython-311.pyc".lstrip("/")
                assert cached in names, (archive_path.name, module)
                pyc = archive.read(cached)
                assert int.from_bytes(pyc[4:8], "little") == HASH_BASED_CHECKED, cached
                code = marshal.loads(pyc[16:])
                assert code.co_filename == f"{root}/{module}", (archive_path.name, module)
            assert not [name for name in names if name.endswith(".pyc")
                        and "/__pycache__/" not in f"/{name}"], archive_path


def versions(translated: dict[str, Any]) -> dict[str, str]:
    """Function -> the logical id of the version SAM publishes for it."""
    return {resource["Properties"]["FunctionName"]["Ref"]: name
            for name, resource in translated["Resources"].items()
            if resource["Type"] == "AWS::Lambda::Version"}


@pytest.mark.usefixtures("sam_region")
@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_a_layer_change_publishes_a_new_version_of_every_function(
        packaged: Packaged, deployment: str, tmp_path: Path) -> None:
    """The same template packaged against two layers: every function behind an alias (in the
    pooled stack the shared authorizer and every API's function, in a silo every function)
    gets a new version, so the canary shifts traffic to the new layer too; the same layer,
    none."""
    folder = packaged.file(deployment).parent
    other_layer = tmp_path / LAYER_ZIP
    other_layer.write_bytes(b"a layer with a security fix")

    def with_layer(layer: Path) -> dict[str, str]:
        template = with_code_digests(copy.deepcopy(packaged.templates[deployment]), folder,
                                     layer)
        return versions(packaged.translate(template, deployment))

    packaged_versions = versions(packaged.translated(deployment))
    aliased = {name for name, resource in packaged.templates[deployment]["Resources"].items()
               if "AutoPublishAlias" in resource.get("Properties", {})}
    assert aliased  # the pooled stack's authorizer and API functions, every silo function
    assert set(packaged_versions) == aliased
    assert with_layer(packaged.out / "layer" / LAYER_ZIP) == packaged_versions
    changed = with_layer(other_layer)
    assert set(changed) == set(packaged_versions)
    assert not set(changed.values()) & set(packaged_versions.values())
