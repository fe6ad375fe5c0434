"""Administration rules: wards and their calendars, accounts, student placements, assets
and their health checks, SLA policies and plugin switches.

Each ``save_*`` function validates everything first and raises one
:class:`~helpdesk_core.errors.ValidationFailed` with an error per field, so nothing is
stored from a bad form. Functions flush; the caller commits.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import i18n
from ..errors import NotFound, ValidationFailed
from ..models import (Asset, AssetCheck, Batch, CalendarDay, Criticality, PluginSetting, Role,
                      SlaPolicy, StudentAssignment, University, User, Ward)
from ..plugins import PluginRegistry
from ..text import nfc
from . import users

WARD_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
# The shortest interval by default (HELPDESK_HEALTH_MIN_INTERVAL_SECONDS may set another):
# a kiosk down 20 s a minute is seen only by a check every 10 s.
CHECK_INTERVAL_RANGE = (10, 86400)
# save_asset's depends_on when the caller does not touch it (bulk rows, the API).
KEEP = object()
# How far save_asset follows "depends on" looking for a loop.
DEPENDS_ON_DEPTH = 20
CHECK_TIMEOUT_RANGE = (0.5, 120.0)
THRESHOLD_RANGE = (1, 20)
SLA_MINUTES_MAX = 60 * 24 * 30


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationFailed("Please check the highlighted answers.", field_errors=errors)


def _clean(value: str | None) -> str:
    return nfc(value or "").strip()


# --- wards --------------------------------------------------------------------------

def save_ward(session: Session, ward: Ward | None, *, code: str, name: str, address: str = "",
              morning_start: str = "07:30", morning_end: str = "11:30",
              afternoon_start: str = "13:30", afternoon_end: str = "17:00",
              saturday_morning: bool = False, auto_assign: bool = False,
              active: bool = True) -> Ward:
    """Create (*ward* None) or update a ward.

    :raises ValidationFailed: code not 2-10 capitals/digits or taken, empty name, times
        not HH:MM or not in order (morning start < end <= afternoon start < end).
    """
    code = _clean(code).upper()
    name = _clean(name)
    errors: dict[str, list[str]] = {}
    if not WARD_CODE.match(code):
        errors["code"] = [i18n.gettext(
            "Use 2-10 capital letters or digits, starting with a letter.")]
    else:
        taken = select(func.count()).select_from(Ward).where(Ward.code == code)
        if ward is not None:
            taken = taken.where(Ward.id != ward.id)
        if session.scalar(taken):
            errors["code"] = [i18n.gettext("Another ward already uses this code.")]
    if not name:
        errors["name"] = [i18n.gettext("Please give the name of the ward.")]
    times = {"morning_start": morning_start, "morning_end": morning_end,
             "afternoon_start": afternoon_start, "afternoon_end": afternoon_end}
    for key, value in times.items():
        if not HHMM.match(_clean(value)):
            errors[key] = [i18n.gettext("Write the time as HH:MM, e.g. 07:30.")]
    if not any(key in errors for key in times):
        order = [_clean(times[k]) for k in ("morning_start", "morning_end",
                                              "afternoon_start", "afternoon_end")]
        if not (order[0] < order[1] <= order[2] < order[3]):
            errors["afternoon_end"] = [i18n.gettext(
                "Working hours must follow each other: morning start, morning end, "
                "afternoon start, afternoon end.")]
    _raise(errors)
    if ward is None:
        ward = Ward(code=code)
        session.add(ward)
    ward.code, ward.name, ward.address = code, name, _clean(address)
    for key, value in times.items():
        setattr(ward, key, _clean(value))
    ward.saturday_morning, ward.auto_assign, ward.active = (
        bool(saturday_morning), bool(auto_assign), bool(active))
    session.flush()
    return ward


def add_calendar_day(session: Session, ward: Ward | None, day: dt.date | None,
                     is_working: bool, note: str = "") -> CalendarDay:
    """Declare a day off or a make-up working day, for one ward or (``None``) the city.

    :raises ValidationFailed: no date, or the same day already declared for that scope.
    """
    errors: dict[str, list[str]] = {}
    if day is None:
        errors["day"] = [i18n.gettext("Choose a date.")]
    else:
        query = select(func.count()).select_from(CalendarDay).where(CalendarDay.day == day)
        query = query.where(CalendarDay.ward_id == ward.id if ward is not None
                            else CalendarDay.ward_id.is_(None))
        if session.scalar(query):
            errors["day"] = [i18n.gettext("This day is already declared for this ward.")]
    if len(_clean(note)) > 200:
        errors["note"] = [i18n.gettext("At most %(max)d characters.", max=200)]
    _raise(errors)
    row = CalendarDay(ward=ward, day=day, is_working=bool(is_working), note=_clean(note))
    session.add(row)
    session.flush()
    return row


def delete_calendar_day(session: Session, day_id: int) -> None:
    row = session.get(CalendarDay, day_id)
    if row is None:
        raise NotFound("This day does not exist.")
    session.delete(row)
    session.flush()


# --- accounts -----------------------------------------------------------------------

def update_user(session: Session, user: User, *, name: str, role: str, ward: Ward | None,
                locale: str, active: bool, email: str = "", actor: User | None = None) -> User:
    """Change an account's name, role, ward, language, e-mail or active flag.

    A new role or ward, or deactivation, ends every session of the account: what it
    may see changed, so it logs in again.

    :param actor: who makes the change; administrators cannot demote or deactivate
        themselves (someone must be left to administer).
    :raises ValidationFailed: empty name, unknown role or language, staff without a ward,
        an administrator locking themselves out.
    """
    errors: dict[str, list[str]] = {}
    if actor is not None and actor.id == user.id:
        if role != user.role:
            errors["role"] = [i18n.gettext("You cannot change your own role.")]
        if not active:
            errors["active"] = [i18n.gettext("You cannot deactivate your own account.")]
    errors.update(users.profile_errors(name, role, ward, locale))
    _raise(errors)
    ward = ward if role == Role.STAFF else None
    if (role != user.role or (ward.id if ward else None) != user.ward_id
            or (user.active and not active)):
        users.end_sessions(user)
    user.name, user.role, user.locale = _clean(name), role, locale
    user.ward = ward
    user.active = bool(active)
    user.email = _clean(email)
    session.flush()
    return user


# --- student placements ---------------------------------------------------------------

def save_assignment(session: Session, assignment: StudentAssignment | None, *,
                    student: User | None, ward: Ward | None, university: str,
                    starts_on: dt.date | None, ends_on: dt.date | None,
                    on_duty: bool = True, batch: Batch | None = None,
                    university_org: University | None = None) -> StudentAssignment:
    """Place a student in a ward for a period (create or update), in a batch and from a
    university (the organisation; its name fills *university* when that is empty).

    :raises ValidationFailed: not a student, no ward, no university, missing or
        reversed dates, a ward the batch does not serve.
    """
    errors: dict[str, list[str]] = {}
    if university_org is not None and not _clean(university):
        university = university_org.name
    if batch is not None and ward is not None and ward not in batch.wards:
        errors["batch"] = [i18n.gettext("This batch does not serve the chosen ward.")]
    if student is None or student.role != Role.STUDENT:
        errors["student"] = [i18n.gettext("Only students can be assigned to wards.")]
    if ward is None:
        errors["ward"] = [i18n.gettext("Choose a ward.")]
    if not _clean(university):
        errors["university"] = [i18n.gettext("Please give the university.")]
    if starts_on is None:
        errors["starts_on"] = [i18n.gettext("Choose a date.")]
    if ends_on is None:
        errors["ends_on"] = [i18n.gettext("Choose a date.")]
    elif starts_on is not None and ends_on < starts_on:
        errors["ends_on"] = [i18n.gettext("The end date must not be before the start date.")]
    _raise(errors)
    if assignment is None:
        assignment = StudentAssignment()
        session.add(assignment)
    assignment.student, assignment.ward = student, ward
    assignment.university = _clean(university)
    assignment.starts_on, assignment.ends_on = starts_on, ends_on
    assignment.on_duty = bool(on_duty)
    assignment.batch, assignment.university_org = batch, university_org
    session.flush()
    return assignment


# --- assets and checks ------------------------------------------------------------------

def save_asset(session: Session, registry: PluginRegistry, asset: Asset | None, *,
               ward: Ward | None, category: str, kind: str, name: str, location: str = "",
               vendor: str = "", model: str = "", serial: str = "", address: str = "",
               criticality: str = Criticality.NORMAL, active: bool = True,
               service_key: str = "", depends_on: Any = KEEP,
               flush: bool = True) -> Asset:
    """Create or update an asset (``ward`` None: a city-wide service).

    *flush* False leaves the INSERT to the caller's next flush (bulk imports: thousands
    of rows in a few round trips instead of one each). *depends_on*: the device this one
    sits behind (an :class:`Asset` of the same ward, or None); left as it is by default.

    *service_key*: the shared service the asset reaches (city-wide incidents,
    :data:`.incident_rules.SERVICES`), "" for none.

    :raises ValidationFailed: unknown category, criticality or service, empty kind or name,
        a device depended on in another ward or that would close a loop.
    """
    from .incident_rules import SERVICES
    errors: dict[str, list[str]] = {}
    if category not in registry.categories:
        errors["category"] = [i18n.gettext("Choose a category.")]
    if not _clean(kind):
        errors["kind"] = [i18n.gettext("Please say what kind of device or service this is.")]
    if not _clean(name):
        errors["name"] = [i18n.gettext("Please give the device or service a name.")]
    if criticality not in Criticality.ALL:
        errors["criticality"] = [i18n.gettext("Choose a criticality.")]
    service_key = _clean(service_key or "")
    if service_key and service_key not in SERVICES:
        errors["service_key"] = [i18n.gettext("Choose a shared service from the list.")]
    if any(ch.isspace() for ch in _clean(address)):
        errors["address"] = [i18n.gettext("Write a host name, host:port or URL without spaces.")]
    if depends_on is not KEEP and depends_on is not None:
        if ward is None or depends_on.ward is None or depends_on.ward.id != ward.id:
            errors["depends_on"] = [i18n.gettext(
                "The device it sits behind must be in the same ward.")]
        elif _depends_on_loop(asset, depends_on):
            errors["depends_on"] = [i18n.gettext(
                "A device cannot sit behind itself or behind a device that sits behind it.")]
    _raise(errors)
    if asset is None:
        asset = Asset()
        session.add(asset)
    asset.ward, asset.category, asset.kind, asset.name = ward, category, _clean(kind), _clean(name)
    asset.location, asset.vendor, asset.model = _clean(location), _clean(vendor), _clean(model)
    asset.serial, asset.address = _clean(serial), _clean(address)
    asset.criticality, asset.active = criticality, bool(active)
    asset.service_key = service_key
    if depends_on is not KEEP:
        asset.depends_on = depends_on
    if flush:
        session.flush()
    return asset


def _depends_on_loop(asset: Asset | None, upstream: Asset) -> bool:
    """Whether *asset* sitting behind *upstream* would make a loop."""
    if asset is None or asset.id is None:
        return False
    current: Asset | None = upstream
    for _ in range(DEPENDS_ON_DEPTH):
        if current is None:
            return False
        if current.id == asset.id:
            return True
        current = current.depends_on
    return True  # a chain this long is a mistake too


def validate_check_config(registry: PluginRegistry, check_type: str,
                          config: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validate a check's settings with its plugin's form; return JSON-safe data.

    :raises ValidationFailed: field errors keyed by the config form's field names.
    """
    spec = registry.check_types.get(check_type)
    if spec is None:
        raise ValidationFailed("Choose a check type.",
                               field_errors={"check_type": [i18n.gettext("Choose a check type.")]})
    if spec.config_form is None:
        return {}
    form = spec.config_form(data=dict(config or {}),
                            meta={"csrf": False,
                                  "get_translations": lambda _: i18n.WTFormsTranslations()})
    if not form.validate():
        raise ValidationFailed("Please check the highlighted answers.",
                               field_errors={k: [str(e) for e in v]
                                             for k, v in form.errors.items()})
    return {name: (value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value)
            for name, value in form.data.items() if name != "csrf_token"}


def save_check(session: Session, registry: PluginRegistry, check: AssetCheck | None, *,
               asset: Asset, check_type: str, config: Mapping[str, Any] | None,
               interval_seconds: int | None, timeout_seconds: float | None,
               failure_threshold: int | None, recovery_threshold: int | None,
               enabled: bool = True, flush: bool = True,
               min_interval: int | None = None) -> AssetCheck:
    """Create or update a health check on *asset*.

    Settings are validated by the check type's plugin form (errors come back under the
    form's own field names); interval *min_interval* (default 10 s) - 1 day, timeout 0.5-120 s and below the
    interval, thresholds 1-20. *flush* as for :func:`save_asset`.

    :raises ValidationFailed: with field errors.
    """
    errors: dict[str, list[str]] = {}
    clean_config: dict[str, Any] = {}
    if check_type not in registry.check_types:
        errors["check_type"] = [i18n.gettext("Choose a check type.")]
    else:
        try:
            clean_config = validate_check_config(registry, check_type, config)
        except ValidationFailed as exc:
            errors.update(exc.field_errors)
    lo, hi = CHECK_INTERVAL_RANGE
    lo = max(1, min_interval) if min_interval is not None else lo
    if interval_seconds is None or not lo <= interval_seconds <= hi:
        errors["interval_seconds"] = [i18n.gettext("Between %(min)d and %(max)d seconds.",
                                                   min=lo, max=hi)]
    tlo, thi = CHECK_TIMEOUT_RANGE
    if timeout_seconds is None or not tlo <= timeout_seconds <= thi:
        errors["timeout_seconds"] = [i18n.gettext("Between %(min)s and %(max)s seconds.",
                                        min=f"{tlo:g}", max=f"{thi:g}")]
    elif interval_seconds is not None and timeout_seconds >= interval_seconds:
        errors["timeout_seconds"] = [i18n.gettext("The timeout must be shorter than the interval.")]
    for key, value in (("failure_threshold", failure_threshold),
                       ("recovery_threshold", recovery_threshold)):
        if value is None or not THRESHOLD_RANGE[0] <= value <= THRESHOLD_RANGE[1]:
            errors[key] = [i18n.gettext("Between %(min)d and %(max)d.", min=THRESHOLD_RANGE[0],
                              max=THRESHOLD_RANGE[1])]
    _raise(errors)
    if check is None:
        check = AssetCheck(asset=asset)
        session.add(check)
    check.check_type, check.config = check_type, clean_config
    check.interval_seconds, check.timeout_seconds = int(interval_seconds), float(timeout_seconds)
    check.failure_threshold = int(failure_threshold)
    check.recovery_threshold = int(recovery_threshold)
    check.enabled = bool(enabled)
    if flush:
        session.flush()
    return check


# --- SLA policies ------------------------------------------------------------------------

def save_sla_policy(session: Session, registry: PluginRegistry, policy: SlaPolicy | None, *,
                    priority: int | None, category: str | None, response_minutes: int | None,
                    resolution_minutes: int | None, at_risk_ratio: float | None,
                    escalate_on_breach: bool = False) -> SlaPolicy:
    """Create or update the targets of a priority (and optionally one category).

    :raises ValidationFailed: priority not 1-4, unknown category, minutes out of range or
        resolution before response, ratio not between 0.1 and 0.99, duplicate policy.
    """
    category = category or None
    errors: dict[str, list[str]] = {}
    if priority not in (1, 2, 3, 4):
        errors["priority"] = [i18n.gettext("Choose a priority from 1 to 4.")]
    if category is not None and category not in registry.categories:
        errors["category"] = [i18n.gettext("Choose a category.")]
    for key, value in (("response_minutes", response_minutes),
                       ("resolution_minutes", resolution_minutes)):
        if value is None or not 1 <= value <= SLA_MINUTES_MAX:
            errors[key] = [i18n.gettext("Between %(min)d and %(max)d minutes.", min=1,
                                        max=SLA_MINUTES_MAX)]
    if not errors.get("response_minutes") and not errors.get("resolution_minutes") \
            and resolution_minutes < response_minutes:
        errors["resolution_minutes"] = [i18n.gettext(
            "The resolution target must not be shorter than the response target.")]
    if at_risk_ratio is None or not 0.1 <= at_risk_ratio <= 0.99:
        errors["at_risk_ratio"] = [i18n.gettext("Between %(min)s and %(max)s.",
                                                min="0.1", max="0.99")]
    if "priority" not in errors and "category" not in errors:
        query = select(func.count()).select_from(SlaPolicy).where(
            SlaPolicy.priority == priority,
            SlaPolicy.category == category if category else SlaPolicy.category.is_(None))
        if policy is not None:
            query = query.where(SlaPolicy.id != policy.id)
        if session.scalar(query):
            errors["priority"] = [i18n.gettext(
                "A policy for this priority and category already exists.")]
    _raise(errors)
    if policy is None:
        policy = SlaPolicy()
        session.add(policy)
    policy.priority, policy.category = priority, category
    policy.response_minutes, policy.resolution_minutes = response_minutes, resolution_minutes
    policy.at_risk_ratio, policy.escalate_on_breach = float(at_risk_ratio), bool(escalate_on_breach)
    session.flush()
    return policy


def delete_sla_policy(session: Session, policy_id: int) -> None:
    policy = session.get(SlaPolicy, policy_id)
    if policy is None:
        raise NotFound("This policy does not exist.")
    session.delete(policy)
    session.flush()


# --- plugins ---------------------------------------------------------------------------

def set_plugin_enabled(session: Session, name: str, enabled: bool) -> PluginSetting:
    """Switch a plugin on or off; the app applies it at its next start."""
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise ValidationFailed("Unknown plugin.")
    row = session.get(PluginSetting, name)
    if row is None:
        row = PluginSetting(name=name, enabled=bool(enabled), settings={})
        session.add(row)
    row.enabled = bool(enabled)
    session.flush()
    return row


def disabled_plugins(session: Session) -> list[str]:
    """Names of the plugins an administrator switched off."""
    return sorted(session.scalars(select(PluginSetting.name)
                                  .where(PluginSetting.enabled.is_(False))))
