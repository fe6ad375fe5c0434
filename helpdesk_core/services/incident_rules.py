"""City-wide incidents, the rules alone: pure functions, no database.

Two questions, each answered from plain values so it can be checked with a table of
cases (tests/core/test_incident_rules.py):

* :func:`service_state`: is a shared service (the national public-service portal, VNeID,
  the SSO, the city's one-stop system) failing from enough wards to be one city-wide
  incident, or has it recovered?
* :func:`suggest`: do recent staff tickets of several wards look like one problem
  (same category, same error text, close in time), so a coordinator should be asked
  to confirm an incident?
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from ..i18n import N_
from ..text import fold

# The shared services an asset may be marked with (Asset.service_key): key -> name.
# The name fills the banner: "<name> đang gián đoạn: không cần khởi động lại máy".
SERVICES: dict[str, str] = {
    "dvcqg": N_("The national public service portal"),
    "vneid": N_("VNeID"),
    "sso": N_("The city's single sign-on (SSO)"),
    "motcua": N_("The city's one-stop system"),
}

# Defaults of the tunable numbers (the web app reads INCIDENT_* settings).
MIN_WARDS = 2                              # K: wards failing at once for an incident
CHECK_WINDOW = dt.timedelta(minutes=30)    # a check's result counts this long
SUGGEST_TICKETS = 3                        # N: tickets ...
SUGGEST_WARDS = 2                          # M: ... from this many wards ...
SUGGEST_WINDOW = dt.timedelta(minutes=30)  # T: ... filed within this period
MATCH_WORDS = 6                            # words of the error text that must match


@dataclass(frozen=True)
class IncidentPolicy:
    """The numbers of both rules (see the module's defaults)."""

    min_wards: int = MIN_WARDS
    check_window: dt.timedelta = CHECK_WINDOW
    suggest_tickets: int = SUGGEST_TICKETS
    suggest_wards: int = SUGGEST_WARDS
    suggest_window: dt.timedelta = SUGGEST_WINDOW


DEFAULT_POLICY = IncidentPolicy()


# --- a shared service failing from several wards ------------------------------------

@dataclass(frozen=True)
class ServiceCheck:
    """One check of a service's asset, as the rule sees it.

    :param ward_id: the asset's ward; None for a city-wide asset (the central server),
        which counts as one more place.
    :param bad: its last result was a failure or an error.
    :param failing: confirmed down: bad ``failure_threshold`` times in a row (the point
        at which a ward ticket is filed).
    :param checked_at: when it last ran (None: never).
    """

    ward_id: int | None
    bad: bool
    failing: bool
    checked_at: dt.datetime | None


@dataclass(frozen=True)
class ServiceState:
    """The verdict on one service.

    :param failing_wards: the places (ward ids, None for the central server) where the
        service is confirmed down now.
    :param incident: enough places are down for a city-wide incident.
    :param recovered: no recent check of the service is bad: an open incident resolves.
    """

    failing_wards: frozenset[int | None]
    incident: bool
    recovered: bool


def service_state(checks: Iterable[ServiceCheck], now: dt.datetime,
                  policy: IncidentPolicy = DEFAULT_POLICY) -> ServiceState:
    """Whether a service is down city-wide, from its checks in every ward.

    Only checks that ran within ``policy.check_window`` count (a disabled or stalled
    check says nothing about now). The service is a city-wide incident when it is
    confirmed down in at least ``policy.min_wards`` places; it has recovered when none
    of its recent checks is bad (one bad result keeps an incident open, which avoids
    closing and reopening it on every other result).
    """
    recent = [c for c in checks
              if c.checked_at is not None and now - c.checked_at <= policy.check_window]
    failing = frozenset(c.ward_id for c in recent if c.failing and c.bad)
    return ServiceState(failing_wards=failing,
                        incident=len(failing) >= max(1, policy.min_wards),
                        recovered=not any(c.bad for c in recent))


# --- staff tickets that look like one problem ---------------------------------------

_NOT_WORDS = re.compile(r"[^a-z ]+")
_SPACES = re.compile(r"\s+")


def match_text(text: str, words: int = MATCH_WORDS) -> str:
    """The part of an error text that must match: "Lỗi 502: Không kết nối được!" and
    "loi 503 khong ket noi duoc" both give "loi khong ket noi duoc".

    Lowercase without diacritics (:func:`~helpdesk_core.text.fold`), digits and
    punctuation dropped (codes and counts differ between wards), the first *words* words.
    """
    cleaned = _NOT_WORDS.sub(" ", fold(text))
    return " ".join(_SPACES.sub(" ", cleaned).split(" ")[:words]).strip()


def error_text(title: str, triage: Mapping[str, Any] | None) -> str:
    """What a ticket says went wrong: the triage answers whose field name has "error"
    in it (the error message or code typed at the front desk), else the title."""
    answers = [str(value) for key, value in sorted((triage or {}).items())
               if "error" in str(key).lower() and isinstance(value, str) and value.strip()]
    return " ".join(answers) if answers else title


@dataclass(frozen=True)
class TicketSignal:
    """One open staff ticket, as :func:`suggest` sees it."""

    ticket_id: int
    ward_id: int
    category: str
    text: str  # match_text of its error text
    created_at: dt.datetime


@dataclass(frozen=True)
class Suggestion:
    """Tickets that look like one city-wide problem (ticket ids oldest first)."""

    category: str
    text: str
    ticket_ids: tuple[int, ...]
    ward_ids: frozenset[int]
    first_at: dt.datetime
    last_at: dt.datetime

    @property
    def key(self) -> str:
        """What a coordinator's confirm or dismiss button sends back."""
        return f"{self.category}:{self.text}"


def suggest(signals: Sequence[TicketSignal],
            policy: IncidentPolicy = DEFAULT_POLICY) -> list[Suggestion]:
    """Groups of tickets a coordinator should be asked to confirm as an incident.

    Tickets match when they have the same category and the same :func:`match_text`
    (an empty text matches nothing). A group is suggested when, within some period of
    ``policy.suggest_window``, it has at least ``policy.suggest_tickets`` tickets from at
    least ``policy.suggest_wards`` wards; the period with the most tickets is taken
    (the latest, on a tie). Most tickets first.
    """
    groups: dict[tuple[str, str], list[TicketSignal]] = {}
    for signal in signals:
        if signal.text:
            groups.setdefault((signal.category, signal.text), []).append(signal)
    found: list[Suggestion] = []
    for (category, text), members in groups.items():
        members.sort(key=lambda s: (s.created_at, s.ticket_id))
        best: list[TicketSignal] = []
        for end in members:
            span = [s for s in members
                    if end.created_at - policy.suggest_window <= s.created_at <= end.created_at]
            if (len(span) >= policy.suggest_tickets
                    and len({s.ward_id for s in span}) >= policy.suggest_wards
                    and len(span) >= len(best)):
                best = span
        if best:
            found.append(Suggestion(category, text, tuple(s.ticket_id for s in best),
                                    frozenset(s.ward_id for s in best),
                                    best[0].created_at, best[-1].created_at))
    found.sort(key=lambda g: (len(g.ticket_ids), g.last_at), reverse=True)
    return found


__all__ = ["SERVICES", "IncidentPolicy", "DEFAULT_POLICY", "ServiceCheck", "ServiceState",
           "service_state", "match_text", "error_text", "TicketSignal", "Suggestion",
           "suggest"]
