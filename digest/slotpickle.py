"""Fast pickling for frozen slotted dataclasses held by the build cache.

dataclasses gives such classes a __setstate__ that calls `fields()` and
`object.__setattr__` for every object; a 10,000-article cache holds about 100,000
of them (problems, annotated articles, dates), and that cost 0.5 s of each build
that loads it. These set each slot through its own descriptor instead.
"""

from __future__ import annotations

import operator
from dataclasses import fields
from typing import Any, TypeVar

C = TypeVar("C", bound=type)


def fast_slots_pickle(cls: C) -> C:
    """Decorate a frozen slotted dataclass (below @dataclass) to pickle as a tuple."""
    names = tuple(f.name for f in fields(cls))
    setters = tuple(getattr(cls, name).__set__ for name in names)
    get_all = operator.attrgetter(*names)

    def __getstate__(self: Any) -> tuple[Any, ...]:
        state = get_all(self)
        return state if len(names) > 1 else (state,)

    def __setstate__(self: Any, state: tuple[Any, ...]) -> None:
        for set_slot, value in zip(setters, state, strict=True):
            set_slot(self, value)

    cls.__getstate__ = __getstate__  # type: ignore[attr-defined]
    cls.__setstate__ = __setstate__  # type: ignore[attr-defined]
    return cls
