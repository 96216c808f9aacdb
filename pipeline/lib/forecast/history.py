"""Actual values of a series as the forecast layer sees them: latest vintage as of a date, with derivation links."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

SeriesKey = tuple[str, str, str]  # (series_id, geography, segment)


@dataclass(frozen=True)
class Point:
    """One actual value and the years of the same series it was derived from (empty for a reported value)."""

    value: float
    derived_from: tuple[int, ...] = ()


def _years(text: str | None) -> tuple[int, ...]:
    if not text:
        return ()
    return tuple(int(part) for part in text.replace("；", ";").replace(",", ";").split(";") if part.strip())


def history_points(con: duckdb.DuckDBPyConnection, key: SeriesKey, as_of: dt.date | None = None) -> dict[int, Point]:
    """Actual (non-outlook) points by year, each from the latest vintage published on or before `as_of`."""
    sql = (
        "SELECT year, value, derived_from FROM core.observations WHERE series_id = ? AND geography = ? "
        "AND segment = ? AND NOT is_outlook"
    )
    params: list = list(key)
    if as_of is not None:
        sql += " AND vintage <= ?"
        params.append(as_of)
    sql += " QUALIFY row_number() OVER (PARTITION BY year ORDER BY vintage DESC) = 1"
    return {int(y): Point(float(v), _years(d)) for y, v, d in con.execute(sql, params).fetchall()}


def history(
    con: duckdb.DuckDBPyConnection,
    series_id: str,
    geography: str = "CN",
    segment: str = "total",
    as_of: dt.date | None = None,
) -> dict[int, float]:
    """Actual values by year (see `history_points`)."""
    return {y: p.value for y, p in history_points(con, (series_id, geography, segment), as_of).items()}


def values(points: dict[int, Point]) -> dict[int, float]:
    """The values of `points` by year."""
    return {y: p.value for y, p in points.items()}
