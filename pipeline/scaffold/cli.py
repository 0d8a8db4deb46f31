"""``make new-service NAME=review [ITEM=review] [ID=reviewId]``: a new tenant service.

    python -m pipeline.scaffold --name NAME [--item ITEM] [--id ID]

Writes ``<name>_service/`` (routes, the domain module a builder edits, the Chalice stages),
``tests/<name>_service/`` and the service's line in the registry, then prints what it wrote
and what to run next. Exit codes: 0 written; 1 writing failed (what had been written is
removed); 2 nothing was written: the arguments (one line per problem, naming its make
variable) or a registry file the scaffold does not recognise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath

from pipeline.project import PROJECT_ROOT
from pipeline.scaffold.arguments import ID, ITEM, NAME, Arguments, problems
from pipeline.scaffold.files import write_all
from pipeline.scaffold.registry_entry import REGISTRY_FILE, RegistryShapeError, entry, with_entry
from pipeline.scaffold.sources import domain_module, domain_package, service_files
from tenant_context.tenancy import POOLED_DEPLOYMENT
from tenant_context.tenant_services import TENANT_SERVICES, TenantService, TenantServices

USAGE_ERROR = 2
WRITE_ERROR = 1
USAGE = f"make new-service {NAME}=<name> [{ITEM}=<item>] [{ID}=<idAttribute>]"

Out = Callable[[str], None]


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(prog="python -m pipeline.scaffold",
                                          description=__doc__.split("\n\n")[0], epilog=USAGE)
    main_parser.add_argument("--name", default="", help=f"{NAME}: the service (folder "
                             "<name>_service, Chalice app <name>-service)")
    main_parser.add_argument("--item", default="", help=f"{ITEM}: what it serves (routes "
                             f"/<item>s, /<item>, /<item>/{{key}}; default: {NAME})")
    main_parser.add_argument("--id", dest="id_attribute", default="", metavar="ID",
                             help=f"{ID}: the id attribute of every item (default: <item>Id)")
    return main_parser


def main(argv: list[str] | None = None, root: Path = PROJECT_ROOT,
         registry: TenantServices = TENANT_SERVICES, out: Out = print,
         err: Out = _stderr) -> int:
    """``root``: the project to write into (the tests pass a temporary copy of what it reads);
    ``registry``: the services registered there."""
    args = parser().parse_args(argv)
    if not args.name:
        err(f"error: missing {NAME} (--name): {USAGE}")
        return USAGE_ERROR
    arguments = Arguments(args.name, args.item, args.id_attribute)
    if found := problems(arguments, root, registry):
        for problem in found:
            err(f"error: {problem}")
        err("nothing was written")
        return USAGE_ERROR
    service = arguments.service
    try:
        registry_text = with_entry((root / REGISTRY_FILE).read_bytes().decode(), service)
    except (OSError, UnicodeDecodeError, RegistryShapeError) as error:
        why = error.strerror if isinstance(error, OSError) and error.strerror else error
        err(f"error: {REGISTRY_FILE}: {why}; nothing was written (the registry line to add "
            f"by hand: {entry(service).strip()})")
        return USAGE_ERROR
    files = service_files(service, registry)
    try:
        write_all(root, files, {REGISTRY_FILE: registry_text})
    except OSError as error:
        err(f"error: {error}; nothing of the new service was left written")
        return WRITE_ERROR
    out(summary(service, files))
    return 0


def summary(service: TenantService, files: Mapping[PurePosixPath, str]) -> str:
    """What was written (``git status`` shows exactly these) and what to run next."""
    domain = next(path for path in files if path.name == f"{domain_module(service)}.py")
    tests = next(path for path in files if path.name.startswith("test_"))
    width = max(len(str(path)) for path in (*files, REGISTRY_FILE)) + 2
    notes = {domain: "your fields: edit this file", REGISTRY_FILE: "+ " + " ".join(
        entry(service).split())}
    listing = f"{service.route_prefix}s"
    return "\n".join([
        f"New tenant service {service.name} (item {service.item}, id {service.id_attribute}):",
        *(f"  {path!s:<{width}}{notes.get(path, '')}".rstrip()
          for path in (*files, REGISTRY_FILE)),
        "Next:",
        f"  1. your fields in {domain} (package chalicelib.{domain_package(service)}), "
        f"and their cases in {tests}",
        "  2. make test      lint, type check and every test, this service's included",
        f"  3. make local     serves it at <gateway>/{POOLED_DEPLOYMENT}{listing}, and at "
        f"<gateway>/<tenantId>{listing} for each Platinum tenant (<gateway>: the URL make "
        "local prints)",
        "  4. make package   its API and function in both stacks (dist/cloudformation/)",
    ])
