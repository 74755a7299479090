"""Dates at mixed precision (1868, January 2020, 24 September 2019) and how they read."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import NamedTuple

from digest.tuplepickle import pickled_as_tuple

# English month names, fixed: calendar.month_name follows the machine's locale, and
# the same input must build the same bytes everywhere.
MONTHS = ("", "January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
_FUZZY_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@pickled_as_tuple
class FuzzyDate(NamedTuple):
    """A date known to the year, the month or the day; ordered as (year, month, day).

    A named tuple, as the model's records (see model.py): every article's events hold
    them, kept in the build cache."""

    year: int
    month: int = 0  # 0: unknown
    day: int = 0  # 0: unknown

    @property
    def precision(self) -> str:
        return "day" if self.day else "month" if self.month else "year"

    @property
    def iso(self) -> str:
        """'2019', '2019-05' or '2019-05-04'."""
        text = f"{self.year:04d}"
        if self.month:
            text += f"-{self.month:02d}"
        if self.day:
            text += f"-{self.day:02d}"
        return text

    def display(self) -> str:
        """'1868', 'January 2020' or '24 September 2019'."""
        if self.day:
            return f"{self.day} {MONTHS[self.month]} {self.year}"
        if self.month:
            return f"{MONTHS[self.month]} {self.year}"
        return str(self.year)

    def last_day(self) -> dt.date:
        """The latest calendar day this date can mean (for range checks)."""
        month = self.month or 12
        day = self.day or calendar.monthrange(self.year, month)[1]
        return dt.date(self.year, month, day)

    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month or 1, self.day or 1)


def parse_fuzzy_date(value: object) -> FuzzyDate:
    """Parse YYYY, YYYY-MM or YYYY-MM-DD (text, int or date); ValueError says why not."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return FuzzyDate(value.year, value.month, value.day)
    text = str(value).strip()
    match = _FUZZY_RE.match(text)
    if not match:
        raise ValueError(f"invalid date '{text}': use YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = (int(g) if g else 0 for g in match.groups())
    if match.group(2) and not 1 <= month <= 12:
        raise ValueError(f"invalid date '{text}': there is no month {month:02d}")
    if match.group(3):
        last = calendar.monthrange(year, month)[1]
        if not 1 <= day <= last:
            raise ValueError(f"invalid date '{text}': {MONTHS[month]} {year} "
                             f"has days 01 to {last:02d}")
    return FuzzyDate(year, month, day)


def display_range(start: FuzzyDate, end: FuzzyDate | None, approx: bool) -> str:
    """'c. 1868', '6 August 2024 – 26 April 2025'."""
    text = start.display()
    if end is not None:
        text = f"{text} – {end.display()}"
    return f"c. {text}" if approx else text


def parse_published(value: object, tz: dt.tzinfo) -> tuple[dt.date, dt.datetime]:
    """Front matter `date`: the calendar day as written, and an aware datetime.

    A date-only value is that day at midnight in the site's zone, so it never shifts a
    day whatever the machine's zone; a datetime without offset is read in the site's zone.
    """
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=tz)
        return moment.astimezone(tz).date(), moment
    if isinstance(value, dt.date):
        return value, dt.datetime(value.year, value.month, value.day, tzinfo=tz)
    text = str(value).strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return day, dt.datetime(day.year, day.month, day.day, tzinfo=tz)
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"invalid date '{text}': use YYYY-MM-DD or "
                         "YYYY-MM-DDTHH:MM:SS+HH:MM") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=tz)
    return moment.astimezone(tz).date(), moment


def format_day(day: dt.date) -> str:
    """'5 September 2025'."""
    return f"{day.day} {MONTHS[day.month]} {day.year}"
