"""Working time on a ward's calendar: opening hours, weekends, Vietnamese holidays.

All arithmetic happens in local time (Asia/Ho_Chi_Minh, no DST) and returns aware UTC.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable
from zoneinfo import ZoneInfo

from .lazy_packages import import_alone

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
MAX_DAYS_SCANNED = 3660  # a calendar with no working day must not loop forever

Period = tuple[dt.time, dt.time]
# The holidays library's packages that import all they hold (their __init__ runs only if
# a name is asked of them).
HOLIDAYS_PACKAGES = ("holidays", "holidays.countries", "holidays.calendars", "holidays.groups")


@functools.lru_cache(maxsize=256)
def parse_hhmm(value: str) -> dt.time:
    """``"07:30"`` -> ``time(7, 30)`` (how wards store their opening hours; the few
    values repeat in every ward, hence the cache)."""
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))


@functools.lru_cache(maxsize=1)
def _vietnam_calendar() -> Callable[..., Any]:
    """The ``holidays`` library's Vietnam class, loaded alone.

    Imported the usual way (``country_holidays("VN")``), the library's packages import
    all ~250 countries and every calendar: 4 to 8 MB in every web worker, against about
    1 MB for Vietnam's module and the few it imports (helpdesk_core/lazy_packages.py).
    Should the library move it, the usual way still works.
    """
    try:
        return import_alone("holidays.countries.vietnam", lazy=HOLIDAYS_PACKAGES).Vietnam
    except (ImportError, AttributeError):
        import holidays
        return functools.partial(holidays.country_holidays, "VN")


@functools.lru_cache(maxsize=64)
def vietnam_holidays(year: int) -> frozenset[dt.date]:
    """Public holidays of *year* with their official days off (Tết, Hùng Kings, 30/4...).

    Includes the observed days of holidays falling on a weekend and the weekdays the
    Government gives off in exchange for a Saturday worked (see
    :func:`vietnam_makeup_days`).
    """
    return frozenset(_vietnam_calendar()(years=year).keys())


@functools.lru_cache(maxsize=64)
def vietnam_makeup_days(year: int) -> frozenset[dt.date]:
    """Weekend days of *year* the Government declared working days (``làm bù``).

    Example: Saturday 26/04/2025 was worked so that Friday 02/05/2025 was off.
    """
    calendar = _vietnam_calendar()(years=year)
    return frozenset(d for d in getattr(calendar, "weekend_workdays", ()) if d.year == year)


@dataclass(frozen=True)
class WorkingCalendar:
    """When a ward's centre works.

    :param weekday_periods: opening periods Monday to Friday (default 07:30-11:30, 13:30-17:00).
    :param saturday_periods: Saturday periods; empty when closed (the default).
    :param days_off: extra days off declared by the ward or the city.
    :param working_days: make-up working days (worked like a weekday even on a weekend).
    :param public_holidays: apply Vietnamese public holidays and the Government's official
        make-up working days.

    A day's periods are decided in this order: the ward's (or city's) own declaration
    (``working_days`` / ``days_off``), then public holidays, then official make-up days,
    then the week (Monday-Friday, Saturday if the ward opens, never Sunday).
    """

    weekday_periods: tuple[Period, ...] = ((dt.time(7, 30), dt.time(11, 30)),
                                           (dt.time(13, 30), dt.time(17, 0)))
    saturday_periods: tuple[Period, ...] = ()
    days_off: frozenset[dt.date] = frozenset()
    working_days: frozenset[dt.date] = frozenset()
    public_holidays: bool = True
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))

    def periods_on(self, day: dt.date) -> tuple[Period, ...]:
        """Opening periods of *day* in local time (empty on a day off)."""
        if day in self.working_days:
            return self.weekday_periods
        if day in self.days_off:
            return ()
        if self.public_holidays and day in vietnam_holidays(day.year):
            return ()
        if self.public_holidays and day in vietnam_makeup_days(day.year):
            return self.weekday_periods
        weekday = day.weekday()
        if weekday < 5:
            return self.weekday_periods
        if weekday == 5:
            return self.saturday_periods
        return ()

    def is_working_day(self, day: dt.date) -> bool:
        """True if the centre opens at all on *day*."""
        return bool(self.periods_on(day))

    def _intervals_from(self, start: dt.datetime) -> Iterable[tuple[dt.datetime, dt.datetime]]:
        """Working intervals (local, aware) from *start* on, the first one clipped."""
        local = start.astimezone(self.tz)
        day = local.date()
        for _ in range(MAX_DAYS_SCANNED):
            for begin, end in self.periods_on(day):
                lo = dt.datetime.combine(day, begin, self.tz)
                hi = dt.datetime.combine(day, end, self.tz)
                if hi < local:  # the end itself counts, so add(end, 0) == end
                    continue
                yield max(lo, local), hi
            day += dt.timedelta(days=1)

    def add(self, start: dt.datetime, minutes: float) -> dt.datetime:
        """The moment *minutes* of working time after *start* (aware UTC).

        The result always lies inside a working period (its end included); with
        ``minutes == 0`` it is *start*, moved forward to the next opening if closed.
        """
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        remaining = dt.timedelta(minutes=minutes)
        for lo, hi in self._intervals_from(start):
            if lo + remaining <= hi:
                return (lo + remaining).astimezone(dt.timezone.utc)
            remaining -= hi - lo
        raise ValueError("no working time in the next ten years of this calendar")

    def minutes_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Working minutes from *start* to *end* (0 if *end* is not after *start*)."""
        if end <= start:
            return 0.0
        total = dt.timedelta()
        end_local = end.astimezone(self.tz)
        for lo, hi in self._intervals_from(start):
            if lo >= end_local:
                break
            total += min(hi, end_local) - lo
        return total.total_seconds() / 60.0

    def add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """The same local time of day on the *days*-th working day after *start*'s date.

        Used for "N working days later" rules (auto-close): a ticket resolved on Friday
        16:00 with ``days=3`` gives Wednesday 16:00 (Saturday and Sunday skipped, holidays
        too). With ``days == 0`` it is *start*.
        """
        if days < 0:
            raise ValueError("days must not be negative")
        local = start.astimezone(self.tz)
        day = local.date()
        left = days
        for _ in range(MAX_DAYS_SCANNED):
            if left == 0:
                moment = dt.datetime.combine(day, local.timetz().replace(tzinfo=None), self.tz)
                return moment.astimezone(dt.timezone.utc)
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        raise ValueError("no working time in the next ten years of this calendar")

    def is_working_time(self, moment: dt.datetime) -> bool:
        """True if *moment* lies inside an opening period (both ends included)."""
        local = moment.astimezone(self.tz)
        return any(dt.datetime.combine(local.date(), lo, self.tz) <= local
                   <= dt.datetime.combine(local.date(), hi, self.tz)
                   for lo, hi in self.periods_on(local.date()))
