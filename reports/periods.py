"""The period of an SLA report: whole local days of a timezone, a month, a quarter or a custom range.

Every way of asking for one (the page's form, the API) checks it here, so that both refuse the same
things with the same words, naming the parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

MAX_DAYS = 366
EARLIEST = date(2000, 1, 1)
LATEST = date(2999, 12, 31)
MAX_TIMEZONE_LENGTH = 64


@dataclass(frozen=True)
class Period:
    first: date  # the first local day
    last: date  # the last local day, included
    tz: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=self.tz).astimezone(UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=self.tz).astimezone(UTC)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def timezone_name(self) -> str:
        return self.tz.key

    def counted_end(self, now: datetime) -> datetime:
        """The end of what is counted: the period's end, or now for a period in progress."""
        return max(self.start, min(self.end, now))

    def in_progress(self, now: datetime) -> bool:
        return now < self.end

    def last_counted_day(self, now: datetime) -> date:
        """The last day with any elapsed time: today for a period in progress."""
        return max(self.first, min(self.last, now.astimezone(self.tz).date()))

    @property
    def is_calendar_month(self) -> bool:
        return self.first.day == 1 and self.last == month_bounds(self.first)[1]


def month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    first = date(year, 3 * quarter - 2, 1)
    return first, month_bounds(date(year, 3 * quarter, 1))[1]


def previous_month(today: date) -> tuple[date, date]:
    return month_bounds(today.replace(day=1) - timedelta(days=1))


def parse_timezone(name: str) -> ZoneInfo | None:
    """An IANA zone by its exact name, or None (no file paths, no oversized names)."""
    if not name or len(name) > MAX_TIMEZONE_LENGTH or name not in _zones():
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


def parse_date(value: str) -> date | None:
    """YYYY-MM-DD only."""
    if len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def range_problems(*, first: date, last: date, now: datetime, tz: ZoneInfo) -> dict[str, str]:
    """Field ("start" or "end") -> what is wrong with [first, last]; empty when it is a usable period."""
    problems: dict[str, str] = {}
    if not EARLIEST <= first <= LATEST:
        problems["start"] = f"Choose a day from {EARLIEST} to {LATEST}."
    if not EARLIEST <= last <= LATEST:
        problems["end"] = f"Choose a day from {EARLIEST} to {LATEST}."
    if problems:
        return problems
    if last < first:
        problems["end"] = "The end is before the start."
    elif (last - first).days + 1 > MAX_DAYS:
        problems["end"] = f"A report covers at most {MAX_DAYS} days."
    elif first > now.astimezone(tz).date():
        problems["start"] = "This period has not started yet."
    return problems


def build(*, start: str, end: str, timezone: str, now: datetime) -> tuple[Period | None, dict[str, str]]:
    """A period from the API's strings, or the problems of each parameter by name."""
    problems: dict[str, str] = {}
    tz = parse_timezone(timezone)
    if tz is None:
        problems["timezone"] = "Unknown timezone: use an IANA name such as Europe/Berlin."
    first, last = parse_date(start), parse_date(end)
    if first is None:
        problems["start"] = "Enter a date as YYYY-MM-DD."
    if last is None:
        problems["end"] = "Enter a date as YYYY-MM-DD."
    if problems or tz is None or first is None or last is None:
        return None, problems
    problems = range_problems(first=first, last=last, now=now, tz=tz)
    return (None, problems) if problems else (Period(first, last, tz), {})
