"""A query compiled once per process with stand-in values, then given each request's values.

Building and compiling a queryset costs ~1.5–2 ms of Python on a page that runs it in 0.2 ms. Where
only some values change from one request to the next (the member, the clock, a slug), the query is
compiled twice, with two sets of stand-ins no request has; comparing the two says which parameters are
those values, and that no other parameter is derived from them (else the query cannot be reused and
the caller compiles it per request, as it would without this).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class QueryShape:
    """SQL and its parameters as compiled for the first stand-ins; `slots[k]` are the positions of value k."""

    sql: str
    params: tuple
    slots: tuple[tuple[int, ...], ...]

    def fill(self, *values) -> list:
        """The parameters with each value in its positions."""
        params = list(self.params)
        for positions, value in zip(self.slots, values, strict=True):
            for i in positions:
                params[i] = value
        return params


def query_shape(compile_sql: Callable[..., tuple[str, Sequence]], stand_ins: tuple[tuple, tuple]) -> QueryShape | None:
    """`compile_sql(*values)` -> (sql, params) for each of the two stand-in tuples, compared; None when the SQL
    differs or a parameter other than the stand-ins' (each matched by value and type) differs."""
    first, second = stand_ins
    (sql, params), (other_sql, other_params) = compile_sql(*first), compile_sql(*second)
    if sql != other_sql or len(params) != len(other_params):
        return None
    slots: list[list[int]] = [[] for _ in first]
    for i, (value, other) in enumerate(zip(params, other_params, strict=True)):
        for slot, (mine, theirs) in enumerate(zip(first, second, strict=True)):
            if (value, other) == (mine, theirs) and type(value) is type(mine):
                slots[slot].append(i)
                break
        else:
            if value != other:
                return None
    return QueryShape(sql=sql, params=tuple(params), slots=tuple(tuple(positions) for positions in slots))
