"""People: creating accounts, passwords, and students' ward assignments."""

from __future__ import annotations

import datetime as dt
import functools
import re
import secrets
import unicodedata
from typing import Any

from sqlalchemy import Select, String, bindparam, cast, func, select, true
from sqlalchemy.orm import Session, joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from .. import i18n
from ..errors import ValidationFailed
from ..models import Role, StudentAssignment, User, Ward
from . import scope
from ..text import fold, nfc

LOGIN_PATTERN = re.compile(r"^[a-z0-9._-]{3,80}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 256
# zxcvbn's score: 3 means about 10^8 guesses or more ("safely unguessable" online).
MIN_PASSWORD_SCORE = 3
# zxcvbn refuses longer input (its time grows quickly with length): judge the start.
ESTIMATED_LENGTH = 72
# What an attacker of this service tries first, besides the person's own words.
SERVICE_WORDS = ("matkhau", "danang", "vietnam", "helpdesk", "phuong", "ubnd", "quantri",
                 "admin", "canbo", "sinhvien", "dieuphoi")
# No hash matches it: the account waits for its owner to set a password.
NO_PASSWORD = "!"
SESSION_ID = re.compile(r"(?P<user>[0-9]{1,18}):(?P<version>[0-9]{1,18})")


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def password_errors(password: str | None, *, login: str = "", name: str = "",
                    email: str = "") -> list[str]:
    """Why *password* is unfit for this account, as messages (an empty list: it is fit).

    Too short or too long; the login, name or e-mail in it (ignoring case, accents
    and punctuation); or too easy to guess: zxcvbn estimates the guesses needed, knowing
    common passwords, keyboard patterns, dates, and the person's and the service's words.
    """
    password = password or ""
    if len(password) < MIN_PASSWORD:
        return [i18n.gettext("At least %(min)d characters.", min=MIN_PASSWORD)]
    if len(password) > MAX_PASSWORD:
        return [i18n.gettext("At most %(max)d characters.", max=MAX_PASSWORD)]
    compact = _compact(password)
    whole = {_compact(login), _compact(name), _compact(email), _compact(email.split("@")[0])}
    if any(word and (word == compact or (len(word) >= 6 and word in compact))
           for word in whole):
        return [i18n.gettext(
            "The password must not contain the login, the name or the e-mail address.")]
    parts = {_compact(part) for part in re.split(r"[\s._@-]+", fold(f"{login} {name} {email}"))}
    from zxcvbn import zxcvbn  # its dictionaries load on first use, not with every import
    estimate = zxcvbn(password[:ESTIMATED_LENGTH],
                      user_inputs=sorted(w for w in whole | parts if w) + list(SERVICE_WORDS))
    if estimate["score"] < MIN_PASSWORD_SCORE:
        return [i18n.gettext("This password is too easy to guess. Use a longer one, for "
                             "example a few unrelated words.")]
    return []


def _compact(value: str) -> str:
    """Letters and digits only, lowercase, without accents: "Võ Minh-Tuấn" -> "vominhtuan"."""
    return re.sub(r"[^0-9a-z]", "", fold(value))


def profile_errors(name: str | None, role: str, ward: Ward | None,
                   locale: str) -> dict[str, list[str]]:
    """What is wrong with an account's name, role, ward and language, per field (for
    creating an account and for editing one)."""
    errors: dict[str, list[str]] = {}
    if not nfc(name or "").strip():
        errors["name"] = [i18n.gettext("Please give a name.")]
    if role not in Role.ALL:
        errors["role"] = [i18n.gettext("Choose a role.")]
    elif role == Role.STAFF and ward is None:
        errors["ward"] = [i18n.gettext("Staff must belong to a ward.")]
    if locale not in i18n.SUPPORTED_LOCALES:
        errors["locale"] = [i18n.gettext("Choose a language.")]
    return errors


def create_user(session: Session, *, login: str, name: str, password: str | None, role: str,
                ward: Ward | None = None, locale: str = i18n.DEFAULT_LOCALE,
                email: str = "", phone: str = "") -> User:
    """Create an account. Staff must belong to a ward.

    *password* None: the account has no usable password until its owner sets one
    through a one-time link (services/password_links.py; bulk imports do this).

    :raises ValidationFailed: bad login, short password, unknown role, login taken.
    """
    login = (login or "").strip().lower()
    errors: dict[str, list[str]] = {}
    if not LOGIN_PATTERN.match(login):
        errors["login"] = [i18n.gettext(
            "Use 3-80 lowercase letters, digits, dots, dashes or underscores.")]
    elif session.scalar(select(func.count()).select_from(User).where(User.login == login)):
        errors["login"] = [i18n.gettext("This login is already taken.")]
    password_problems = ([] if password is None else
                         password_errors(password, login=login, name=name or "", email=email))
    if password_problems:
        errors["password"] = password_problems
    errors.update(profile_errors(name, role, ward, locale))
    if errors:
        raise ValidationFailed("Please check the highlighted answers.", field_errors=errors)
    user = User(login=login, name=nfc(name).strip(),
                password_hash=NO_PASSWORD if password is None else hash_password(password),
                role=role, ward=ward if role == Role.STAFF else None, locale=locale,
                email=email.strip(), phone=phone.strip())
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, login: str | None, password: str | None) -> User | None:
    """The active user with this login and password, or None.

    Verifies exactly one password hash whatever is wrong: an unknown login or a
    deactivated account is checked against a stand-in hash of the same cost, so the time
    an answer takes does not tell which logins exist.
    """
    user = session.scalar(select(User).where(User.login == (login or "").strip().lower()))
    usable = user is not None and user.active and user.password_hash != NO_PASSWORD
    stored = user.password_hash if usable else _stand_in_hash()
    if not check_password_hash(stored, password or "") or not usable:
        return None
    return user


@functools.cache
def _stand_in_hash() -> str:
    """A hash made like real ones (same algorithm and cost) of a password nobody knows."""
    return hash_password(secrets.token_urlsafe(32))


def set_password(user: User, password: str) -> None:
    """Give *user* a new password; every session of the account ends.

    :raises ValidationFailed: the password breaks the rule of :func:`password_errors`.
    """
    problems = password_errors(password, login=user.login, name=user.name,
                               email=user.email or "")
    if problems:
        raise ValidationFailed("Please check the highlighted answers.",
                               field_errors={"password": problems})
    user.password_hash = hash_password(password)
    end_sessions(user)


def end_sessions(user: User) -> None:
    """End every session of *user* on every device, "stay logged in" cookies included.

    A session holds the account's session version (``User.get_id()``); raising the
    version makes every older session id unknown. The caller commits.
    """
    user.session_version = (user.session_version or 1) + 1


# A student's wards on a day ("3,17"), read with the account: scope.ward_ids_for asks
# on nearly every page a student opens.
_WARDS_ON_DAY = (select(func.aggregate_strings(cast(StudentAssignment.ward_id, String), ","))
                 .where(StudentAssignment.student_id == User.id,
                        StudentAssignment.starts_on <= bindparam("today"),
                        StudentAssignment.ends_on >= bindparam("today"))
                 .correlate(User).scalar_subquery())


@functools.cache
def _account_query(with_ward: bool, extra: Any = None, wards_on_day: bool = False) -> Select:
    # Built once: every page loads its user, and building the statement cost more than
    # running it (session.get builds one per call).
    query = select(User).where(User.id == bindparam("user_id"))
    if extra is not None:
        query = query.add_columns(*extra.c).outerjoin(extra, true())
    if wards_on_day:
        query = query.add_columns(_WARDS_ON_DAY)
    return query.options(joinedload(User.ward)) if with_ward else query


def user_for_session(session: Session, session_id: str | None,
                     with_ward: bool = False) -> User | None:
    """The account a session id (``User.get_id()``) belongs to, or None when that session
    has ended: the version is an old one, the account is deactivated or gone, or the id
    is malformed (such as a bare id from before session versions).

    *with_ward*: load the account's ward in the same query.
    """
    return session_account(session, session_id, with_ward)[0]


def session_account(session: Session, session_id: str | None, with_ward: bool = False,
                    extra: Any = None, today: dt.date | None = None) -> tuple[User | None, Any]:
    """:func:`user_for_session`, and a value every request wants, read in the same query:
    the first column of *extra*, a subquery of one row (an aggregate) joined to the
    account's; None without a valid session.

    *extra* must be one object built once (a module's constant): the query is kept per
    *extra*. With *today*, a student's wards on that day come in the same query and
    :func:`scope.ward_ids_for` answers from them.
    """
    match = SESSION_ID.fullmatch(session_id or "")
    if match is None:
        return None, None
    params: dict[str, Any] = {"user_id": int(match["user"])}
    if today is not None:
        params["today"] = today
    row = session.execute(_account_query(with_ward, extra, today is not None),
                          params).unique().one_or_none()
    if row is None:
        return None, None
    user = row[0]
    if not user.active or user.session_version != int(match["version"]):
        return None, None
    if today is not None and user.role == Role.STUDENT:
        wards = row[-1]
        scope.remember_student_wards(session, user, today, frozenset(
            int(ward_id) for ward_id in wards.split(",")) if wards else frozenset())
    return user, (row[1] if extra is not None else None)


def assign_student(session: Session, student: User, ward: Ward, university: str,
                   starts_on: dt.date, ends_on: dt.date) -> StudentAssignment:
    """Place a student in a ward for a period."""
    errors: dict[str, list[str]] = {}
    if student.role != Role.STUDENT:
        errors["student"] = [i18n.gettext("Only students can be assigned to wards.")]
    if not university.strip():
        errors["university"] = [i18n.gettext("Please give the university.")]
    if ends_on < starts_on:
        errors["ends_on"] = [i18n.gettext("The end date must not be before the start date.")]
    if errors:
        raise ValidationFailed("Please check the highlighted answers.", field_errors=errors)
    assignment = StudentAssignment(student=student, ward=ward, university=university.strip(),
                                   starts_on=starts_on, ends_on=ends_on)
    session.add(assignment)
    session.flush()
    return assignment


_PHONE_CHARS = re.compile(r"^\+?[0-9 ().\-]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$")
PHONE_MAX = 20
EMAIL_MAX = 120


def update_contact(user: User, *, phone: str, email: str) -> User:
    """Set the phone number and e-mail address people reach *user* at (their profile).

    Ticket text masks phone numbers and addresses, so a call-back number belongs here:
    the ticket page shows the reporter's and the assignee's contact from their profiles.
    Digits typed full-width are stored as ASCII. Empty clears a field.

    :raises ValidationFailed: a phone number that is not 8 to 15 digits (with +, spaces,
        dots, dashes or brackets), or an address that is not name@domain.
    """
    phone = unicodedata.normalize("NFKC", phone or "").strip()
    email = unicodedata.normalize("NFKC", email or "").strip()
    errors: dict[str, list[str]] = {}
    digits = sum(ch.isdigit() for ch in phone)
    if phone and (len(phone) > PHONE_MAX or not _PHONE_CHARS.match(phone)
                  or not 8 <= digits <= 15):
        errors["phone"] = [i18n.gettext("Give a phone number, e.g. 0905 123 456.")]
    if email and (len(email) > EMAIL_MAX or not _EMAIL.match(email)):
        errors["email"] = [i18n.gettext("Give an e-mail address, e.g. ten@danang.gov.vn.")]
    if errors:
        raise ValidationFailed("Please check the highlighted answers.", field_errors=errors)
    user.phone = phone
    user.email = email
    return user
