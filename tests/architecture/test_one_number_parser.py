"""Numbers from requests are read one way (``tenant_context.service.validation.whole_number``,
ASCII digits only): ``str.isdigit``, ``isdecimal``, ``isnumeric`` and a regex ``\\d`` all take
digits such as "²" or U+0661 (an Arabic-Indic one) that ``int`` then refuses (a 500) or reads
as another number. This finds every use of them in the code, so the class of defect cannot
come back route by route."""

from __future__ import annotations

import ast
from pathlib import Path

from pipeline.project import PROJECT_ROOT
from tenant_context.tenant_services import TENANT_SERVICES

CODE = ("layer", "authorizer", "shared_services", "pipeline",
        *(service.folder for service in TENANT_SERVICES))
LOOSE_METHODS = {"isdigit", "isdecimal", "isnumeric"}
REGEX_CALLS = {"compile", "match", "fullmatch", "search", "findall", "finditer", "sub", "split"}


def loose_digits(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr in LOOSE_METHODS:
            found.append((node.lineno, f".{node.func.attr}()"))
        elif (node.func.attr in REGEX_CALLS and isinstance(node.func.value, ast.Name)
              and node.func.value.id == "re" and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and "\\d" in node.args[0].value):
            found.append((node.lineno, f"re.{node.func.attr}(... \\d ...)"))
    return found


def test_no_code_reads_digits_any_other_way() -> None:
    files = sorted(path for folder in CODE for path in (PROJECT_ROOT / folder).rglob("*.py")
                   if "__pycache__" not in path.parts)
    found = {str(path.relative_to(PROJECT_ROOT)): uses for path in files
             if (uses := loose_digits(path))}
    assert found == {}


def test_the_check_finds_both_forms(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text('import re\nok = "1".isdigit()\nKEY = re.compile(r"x-(\\d+)")\n')
    assert loose_digits(module) == [(2, ".isdigit()"), (3, "re.compile(... \\d ...)")]
