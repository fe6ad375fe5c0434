"""Checklists students tick on a ticket of this category."""

from helpdesk_core import ResolutionTemplate, translator

_l = translator(__name__).lazy_gettext

TEMPLATES = [ResolutionTemplate("cannot_learn", "learning", _l("A lesson cannot be followed"), (
    _l("Sign in again with a level-2 VNeID account"),
    _l("Lessons open in order: finish the previous one first"),
    _l("Try another browser, or the platform's page on the status board"),
    _l("If it still fails, report it to the platform's support with a screenshot")))]
