"""Reading stored triage answers: readable rows and a priority suggestion."""

from __future__ import annotations

from typing import Any, Mapping

from helpdesk_core import PrioritySuggestion, translator

from .forms import DEGRADED_SYMPTOMS, SCANNER_SYMPTOMS, PrinterTriageForm
from .resolutions import TEMPLATE_FOR_SYMPTOM, TEMPLATES

_ = translator(__name__).gettext
_l = translator(__name__).lazy_gettext


def summary_rows(triage: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(label, value)`` rows in the current locale; choices by label, blanks left out.

    A value no longer among the choices (an older form) is shown as stored.
    """
    form = PrinterTriageForm()
    rows: list[tuple[str, str]] = []
    for field in form:
        if field.name not in triage:
            continue
        value = triage[field.name]
        if field.type == "BooleanField":
            text = _("Yes") if value else _("No")
            if not value:
                continue  # an unticked box says nothing worth a row
        elif field.type == "SelectField":
            labels = {choice.value: choice.label for choice in field.choices}
            text = str(labels.get(value, value)) if value not in (None, "") else ""
        else:
            text = "" if value is None else str(value).strip()
        if text:
            rows.append((str(field.label.text), text))
    template_key = TEMPLATE_FOR_SYMPTOM.get(triage.get("symptom") or "")
    titles = {t.key: t.title for t in TEMPLATES}
    if template_key in titles:
        rows.append((_("Suggested checklist"), str(titles[template_key])))
    return rows


def suggest_priority(triage: Mapping[str, Any]) -> PrioritySuggestion | None:
    """Urgent when the device stops reception at a counter or for everyone.

    Receiving a record means scanning it (every record is digitised at reception) and
    printing the appointment slip, so a dead scanner or printer at a counter keeps
    citizens waiting. Low toner or a large PDF still lets the counter work.
    """
    symptom = triage.get("symptom") or ""
    degraded = symptom in DEGRADED_SYMPTOMS
    scanner = symptom in SCANNER_SYMPTOMS
    if triage.get("blocks_counter"):
        if degraded:
            return PrioritySuggestion(2, _l("Used at a reception counter; it still works, "
                                            "but poorly."))
        if scanner:
            return PrioritySuggestion(1, _l("The counter cannot scan records, so it cannot "
                                            "receive citizens' applications."))
        return PrioritySuggestion(1, _l("The counter cannot print appointment slips or "
                                        "results for citizens."))
    if triage.get("affected") == "all" and not degraded:
        return PrioritySuggestion(2, _l("No computer can use this device."))
    return None
