"""``helpdesk plugin new NAME``: write a small, complete plugin package to start from.

The package (``template/``, rendered with :class:`string.Template`) has a category, a
triage form, a coroutine health check on :mod:`helpdesk_core.http`, a checklist, a
Vietnamese catalog (compiled here, so it works before any build step) and tests on
the testing kit. It installs with ``pip install -e`` and passes its tests at once.
"""

from __future__ import annotations

import importlib.metadata
import pathlib
import string

from helpdesk_core import ENTRY_POINT_GROUP
from helpdesk_core.contracts import valid_key
from helpdesk_core.testing.catalogs import compile_catalogs

TEMPLATE = pathlib.Path(__file__).parent / "template"


class ScaffoldError(ValueError):
    """The plugin cannot be written (bad name, name taken, folder exists)."""


def plugin_values(name: str, label: str | None = None,
                  label_vi: str | None = None) -> dict[str, str]:
    """What the templates fill in, from the plugin's *name* (its category key)."""
    if not valid_key(name):
        raise ScaffoldError(f"{name!r} is not a valid plugin name: use 2-40 lowercase "
                            "letters, digits or _, starting with a letter")
    taken = {ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    if name in taken:
        raise ScaffoldError(f"a plugin named {name!r} is already installed")
    label = label or name.replace("_", " ").capitalize()
    for text in (label, label_vi or ""):
        if any(ch in text for ch in '"\\\n'):
            raise ScaffoldError("labels cannot contain quotes, backslashes or new lines")
    return {"name": name, "package": f"helpdesk_{name}",
            "dist": f"ward-helpdesk-{name.replace('_', '-')}",
            "label": label, "label_vi": label_vi or label}


def write_plugin(name: str, parent: pathlib.Path, label: str | None = None,
                 label_vi: str | None = None) -> pathlib.Path:
    """Write the package for plugin *name* into a new folder under *parent*; return it."""
    values = plugin_values(name, label, label_vi)
    root = pathlib.Path(parent) / values["dist"]
    if root.exists():
        raise ScaffoldError(f"{root} already exists")
    for source in sorted(TEMPLATE.rglob("*.tmpl")):
        relative = source.relative_to(TEMPLATE).with_suffix("")  # drop .tmpl
        parts = [values["package"] if part == "package" else part for part in relative.parts]
        target = root.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = string.Template(source.read_text(encoding="utf-8")).substitute(values)
        target.write_text(text, encoding="utf-8")
    compile_catalogs(root / values["package"])
    return root
