"""Write a tiny installed distribution (dist-info + modules) for entry-point tests.

importlib.metadata finds it like any pip-installed package once its folder is on
sys.path, so plugins in it load through the real ``ward_helpdesk`` entry points.
"""

from __future__ import annotations

import pathlib
import textwrap

from helpdesk_core import ENTRY_POINT_GROUP


def write_distribution(site: pathlib.Path, name: str, entry_points: dict[str, str],
                       modules: dict[str, str]) -> pathlib.Path:
    """Create ``<name>-0.1.dist-info`` and the given modules under *site*; return *site*."""
    site.mkdir(parents=True, exist_ok=True)
    dist_info = site / f"{name.replace('-', '_')}-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n", encoding="utf-8")
    lines = [f"[{ENTRY_POINT_GROUP}]"] + [f"{ep} = {target}" for ep, target in entry_points.items()]
    (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for module, source in modules.items():
        (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    (dist_info / "RECORD").write_text("", encoding="utf-8")
    return site
