"""Which report numbers each dataset feeds, and its vintages in order: what `reportctl status` shows so that an
analyst can confirm a new vintage is linked to its dataset and see what it will move."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

    from pipeline.lib.report.facts import FactQuery


@dataclass(frozen=True)
class Vintage:
    """One table of a dataset."""

    source_id: str
    file: str
    published: dt.date


@dataclass(frozen=True)
class DatasetFeeds:
    """A dataset: its vintages oldest first (the last is the latest), and the report's named numbers whose series
    one of its tables holds."""

    dataset: str
    vintages: list[Vintage]
    numbers: list[str]


def dataset_feeds(con: duckdb.DuckDBPyConnection, queries: Mapping[str, FactQuery]) -> list[DatasetFeeds]:
    """Every dataset of core.sources with its vintages and the numbers of the prose it feeds (by their names in
    facts.yaml or their references on the pages)."""
    by_series: dict[str, list[str]] = {}
    for name, query in queries.items():
        if query.kind in ("observation", "growth") and query.series:
            by_series.setdefault(query.series, []).append(name)
    rows = con.execute("""
        SELECT s.dataset, s.source_id, s.file, s.published, list(DISTINCT o.series_id) FILTER (o.series_id IS NOT NULL)
        FROM core.sources s LEFT JOIN core.observations o USING (source_id)
        GROUP BY ALL ORDER BY s.dataset, s.published, s.source_id""").fetchall()
    grouped: dict[str, tuple[list[Vintage], set[str]]] = {}
    for dataset, source_id, file, published, series in rows:
        vintages, numbers = grouped.setdefault(dataset, ([], set()))
        vintages.append(Vintage(source_id, file, published))
        numbers.update(n for sid in series or [] for n in by_series.get(sid, []))
    return [DatasetFeeds(d, v, sorted(n)) for d, (v, n) in sorted(grouped.items())]
