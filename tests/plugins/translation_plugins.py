"""Two throwaway plugins, ``alpha`` and ``beta``, each with a tiny compiled catalog that
translates the same message ids differently (and ids of the core and the web layer too)."""

from __future__ import annotations

import pathlib
import sys
from types import ModuleType

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from wtforms import Form, SelectChoice, SelectField

from helpdesk_core import (Category, CheckResult, CheckStatus, HealthCheckType,
                           ResolutionTemplate, hookimpl, translator)

SHARED = ["What is wrong?", "Broken", "Reload the paper", "Paper out"]
CORE_IDS = ["Yes", "Please log in to continue."]  # the core's and the web layer's
VIETNAMESE = {
    "alpha": {"What is wrong?": "Lỗi gì?", "Broken": "Hỏng (alpha)",
              "Reload the paper": "Nạp giấy (alpha)", "Paper out": "Hết giấy (alpha)",
              "Yes": "Vâng (alpha)", "Please log in to continue.": "Đăng nhập (alpha)"},
    "beta": {"What is wrong?": "Không dùng được gì?", "Broken": "Hỏng (beta)",
             "Reload the paper": "Nạp giấy (beta)", "Paper out": "Hết giấy (beta)",
             "Yes": "Vâng (beta)", "Please log in to continue.": "Đăng nhập (beta)"},
}


def _write_catalog(package: pathlib.Path, messages: dict[str, str]) -> None:
    folder = package / "translations" / "vi" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalog = Catalog(locale="vi")
    for msgid, msgstr in messages.items():
        catalog.add(msgid, msgstr)
    with (folder / "messages.mo").open("wb") as handle:
        write_mo(handle, catalog)


def make_plugin(root: pathlib.Path, name: str, monkeypatch) -> ModuleType:
    """A plugin module ``name`` (category, triage form, template, check) that translates
    its strings the documented way: ``translator(__name__)``."""
    package = root / name
    _write_catalog(package, VIETNAMESE[name])
    module = ModuleType(name)
    module.__file__ = str(package / "__init__.py")
    monkeypatch.setitem(sys.modules, name, module)  # as an import would
    _ = translator(name).gettext
    _l = translator(name).lazy_gettext

    class TriageForm(Form):
        what = SelectField(_l("What is wrong?"), choices=[SelectChoice("broken", _l("Broken"))])

    def run(target):
        return CheckResult(CheckStatus.FAILURE, _("Paper out"))

    module.TriageForm = TriageForm
    module.helpdesk_register_categories = hookimpl(
        lambda: [Category(name, _l("What is wrong?"), description=_l("Broken"))])
    module.helpdesk_register_resolution_templates = hookimpl(
        lambda: [ResolutionTemplate("paper", name, _l("Broken"), (_l("Reload the paper"),))])
    module.helpdesk_register_health_checks = hookimpl(
        lambda: [HealthCheckType(f"{name}_paper", _l("Paper out"), name, run=run)])
    module.helpdesk_triage_form = hookimpl(
        lambda category: TriageForm if category == name else None)
    return module
