"""Python source text that passes the project's lint (``ruff``: lines of at most 100
characters, no shadowed builtin) whatever names a builder chose: a 24-character item must not
turn the generated service into a lint failure, so lines that hold names are laid out here
rather than written in one shape that fits short names only."""

from __future__ import annotations

import builtins
import keyword
import textwrap
from collections.abc import Collection, Sequence

LINE_LENGTH = 100  # pyproject.toml [tool.ruff]


def identifier(word: str, taken: Collection[str] = ()) -> str:
    """``word`` as a variable name: with PEP 8's trailing underscore when it is a keyword, a
    builtin (``type``, ``property``) or a name the module already uses."""
    clashes = keyword.iskeyword(word) or word in vars(builtins) or word in taken
    return f"{word}_" if clashes else word


def docstring(*paragraphs: str, indent: str = "") -> str:
    """A docstring of one or more paragraphs, each filled to the line length."""
    def fill(text: str) -> str:
        return textwrap.fill(text, LINE_LENGTH, initial_indent=indent, subsequent_indent=indent,
                             break_long_words=False, break_on_hyphens=False)

    if len(paragraphs) == 1:
        return fill(f'"""{paragraphs[0]}"""')
    first, *rest = paragraphs
    body = "\n\n".join([fill(f'"""{first}'), *(fill(paragraph) for paragraph in rest)])
    return f'{body}\n{indent}"""'


def call(head: str, arguments: Sequence[str], tail: str = "", indent: str = "") -> str:
    """``head(argument, ...)tail`` on as few lines as fit, continuation lines aligned with the
    opening parenthesis (the project's style, e.g. the registry's entries)."""
    opening = f"{indent}{head}("
    pieces = [f"{argument}," for argument in arguments[:-1]]
    pieces.append(f"{arguments[-1] if arguments else ''}){tail}")
    lines = [opening + pieces[0]]
    for piece in pieces[1:]:
        if len(lines[-1]) + 1 + len(piece) <= LINE_LENGTH:
            lines[-1] += f" {piece}"
        else:
            lines.append(" " * len(opening) + piece)
    return "\n".join(lines)
