"""Working time on a ward's calendar: opening hours, weekends, Vietnamese holidays.

All arithmetic happens in local time (Asia/Ho_Chi_Minh, no DST) and returns aware UTC.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Iterable
from zoneinfo import ZoneInfo

import holidays as holidays_lib

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
MAX_DAYS_SCANNED = 3660  # a calendar with no working day must not loop forever

Period = tuple[dt.time, dt.time]


def parse_hhmm(value: str) -> dt.time:
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))


@functools.lru_cache(maxsize=64)
def vietnam_holidays(year: int) -> frozenset[dt.date]:
    """Public holidays of *year* with their official days off (Tết, Hùng Kings, 30/4...)."""
    return frozenset(holidays_lib.country_holidays("VN", years=year).keys())


@dataclass(frozen=True)
class WorkingCalendar:
    """When a ward's centre works.

    :param weekday_periods: opening periods Monday to Friday (default 07:30-11:30, 13:30-17:00).
    :param saturday_periods: Saturday periods; empty when closed (the default).
    :param days_off: extra days off declared by the ward or the city.
    :param working_days: make-up working days (worked like a weekday even on a weekend).
    :param public_holidays: apply Vietnamese public holidays.
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
        weekday = day.weekday()
        if weekday < 5:
            return self.weekday_periods
        if weekday == 5:
            return self.saturday_periods
        return ()

    def is_working_day(self, day: dt.date) -> bool:
        return bool(self.periods_on(day))

    def _intervals_from(self, start: dt.datetime) -> Iterable[tuple[dt.datetime, dt.datetime]]:
        """Working intervals (local, aware) from *start* on, the first one clipped."""
        local = start.astimezone(self.tz)
        day = local.date()
        for _ in range(MAX_DAYS_SCANNED):
            for begin, end in self.periods_on(day):
                lo = dt.datetime.combine(day, begin, self.tz)
                hi = dt.datetime.combine(day, end, self.tz)
                if hi <= local:
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

    def is_working_time(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(self.tz)
        return any(dt.datetime.combine(local.date(), lo, self.tz) <= local
                   <= dt.datetime.combine(local.date(), hi, self.tz)
                   for lo, hi in self.periods_on(local.date()))
