"""A Sphinx extension for the API reference: primekit's docstrings as napoleon would read them if it knew our style.

Two napoleon habits misread primekit's docstrings, so this fixes them on the way (no docstring changes):

- An attribute, constant or property docstring whose first line has a colon (``#: How a chip reads a batch:
  every sample ...``) is split by napoleon into a *type* ("How a chip reads a batch") and a description.
  primekit never writes types there, so the line is kept whole: a placeholder first line without a colon,
  inserted before napoleon runs and removed after it, leaves napoleon nothing to split.
- An ``Attributes:`` entry naming several fields (``lr, weight_decay: AdamW's``) becomes one ``:ivar:`` field
  that Sphinx reads as a type and a name ("weight_decay (lr,)"); it is split into one field per name, as
  napoleon already does for ``Args:``.

Loaded by ``_config.yml`` (``sphinx: local_extensions``); the book's tests check both on the built pages.
"""

from __future__ import annotations

import re

_PROSE_KINDS = ("attribute", "data", "property")
_PLACEHOLDER = "primekit-docstring-prose-placeholder"  # napoleon splits only at a colon in the first line
_SEVERAL_NAMES = re.compile(r"^:(ivar|vartype) (\w+(?:\s*,\s*\w+)+):(.*)$")


def keep_first_line_whole(app, what, name, obj, options, lines: list[str]) -> None:
    """Before napoleon: put a placeholder line above an attribute-like docstring, so no colon of it is split off."""
    if what in _PROSE_KINDS and lines:
        lines.insert(0, _PLACEHOLDER)


def drop_placeholder(app, what, name, obj, options, lines: list[str]) -> None:
    """After napoleon: remove the placeholder again."""
    lines[:] = [line for line in lines if line != _PLACEHOLDER]


def one_field_per_name(app, what, name, obj, options, lines: list[str]) -> None:
    """After napoleon: ``:ivar a, b: text`` (and its indented continuation) becomes ``:ivar a:`` and ``:ivar b:``."""
    result, index = [], 0
    while index < len(lines):
        match = _SEVERAL_NAMES.match(lines[index])
        if not match:
            result.append(lines[index])
            index += 1
            continue
        end = index + 1
        while end < len(lines) and lines[end][:1].isspace() and lines[end].strip():
            end += 1
        role, names, first = match.groups()
        for field_name in re.split(r"\s*,\s*", names):
            result.append(f":{role} {field_name}:{first}")
            result.extend(lines[index + 1:end])
        index = end
    lines[:] = result


def setup(app):
    app.setup_extension("sphinx.ext.napoleon")  # napoleon's handler runs at the default priority, 500
    app.connect("autodoc-process-docstring", keep_first_line_whole, priority=400)
    app.connect("autodoc-process-docstring", drop_placeholder, priority=600)
    app.connect("autodoc-process-docstring", one_field_per_name, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
