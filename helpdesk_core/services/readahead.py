"""Reads made ahead of a write transaction, and reused inside it.

On SQLite one writer holds the database's write lock from its first write (BEGIN
IMMEDIATE) to its commit. Filing a ticket reads the ward's calendar, who is on duty,
the webhooks and the people's channels; made inside the write
transaction, those reads kept every other writer waiting. Inside :func:`kept`, the
functions that read through :func:`remembered` read once: the caller reads ahead (a
deferred transaction, no lock), then writes with what it read. Outside :func:`kept`
nothing is remembered.

What is remembered is configuration and people (calendars, rosters, channels), read a
few milliseconds before the write: the same moment's view a long transaction had.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Hashable, Iterable, Iterator, TypeVar

from sqlalchemy.orm import Session

_KEY = "helpdesk_read_ahead"
T = TypeVar("T")


@contextlib.contextmanager
def kept(session: Session) -> Iterator[None]:
    """Remember :func:`remembered` reads on *session* until the block ends."""
    previous = session.info.get(_KEY)
    session.info[_KEY] = {} if previous is None else previous
    try:
        yield
    finally:
        if previous is None:
            session.info.pop(_KEY, None)


def remembered(session: Session, key: Hashable, read: Callable[[], T]) -> T:
    """``read()``, once per *key* inside :func:`kept`; every time outside it."""
    memo: dict[Hashable, Any] | None = session.info.get(_KEY)
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]


def remembered_each(session: Session, kind: str, ids: Iterable[Hashable],
                    read: Callable[[set[Any]], dict[Any, Any]]) -> dict[Any, Any]:
    """``{id: value}`` for *ids*: ``read(ids)`` is asked only for those not remembered
    yet (all of them outside :func:`kept`); an id it leaves out has the value None."""
    memo: dict[Hashable, Any] | None = session.info.get(_KEY)
    wanted = set(ids)
    known = {i: memo[(kind, i)] for i in wanted if memo is not None and (kind, i) in memo}
    missing = wanted - set(known)
    if missing:
        fresh = dict.fromkeys(missing)
        fresh.update(read(missing))
        if memo is not None:
            memo.update({(kind, i): value for i, value in fresh.items()})
        known.update(fresh)
    return known


def keeping(session: Session) -> bool:
    """True inside :func:`kept`: a read may then bring what a later one will need."""
    return session.info.get(_KEY) is not None


def seed(session: Session, key: Hashable, value: Any) -> None:
    """Remember *value* under *key* inside :func:`kept` (read along with another read);
    nothing outside it."""
    memo: dict[Hashable, Any] | None = session.info.get(_KEY)
    if memo is not None:
        memo[key] = value


def peek(session: Session, key: Hashable) -> Any:
    """What :func:`remembered` or :func:`seed` keeps under *key*, or None."""
    memo: dict[Hashable, Any] | None = session.info.get(_KEY)
    return None if memo is None else memo.get(key)
