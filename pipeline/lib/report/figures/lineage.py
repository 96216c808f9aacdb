"""The core datasets a spec chart reads, derived from its series selection: the datasets whose rows are the
latest vintage of a selected (series, geography, segment, year), read from the bundled sources with the real
ingest (into a throwaway in-memory warehouse) so that the chart's asset depends on exactly what its data shows.

Only the tables that can hold a selected series are read (their file or manifest entry names the series, its
name or an alias, or they are workbooks), plus the exchange-rate tables, once for the series of every spec; the
result is kept per state of the files (in memory and in output/build/lineage.json), so loading the definitions
reads the tables only after they changed."""

from __future__ import annotations

import functools
import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import output_dir
from pipeline.lib.errors import SourceError
from pipeline.lib.ingest.inputs import source_hashes

CACHE = "lineage.json"
Row = tuple[str, str, str, int, bool, str]  # series, geography, segment, year, is_outlook, dataset


@dataclass(frozen=True)
class Rows:
    """The selection of one series as the lineage sees it."""

    series: str
    geography: str
    segment: str
    first_year: int | None
    last_year: int | None
    actuals: bool
    outlook: bool

    def holds(self, row: Row) -> bool:
        """True if the latest-vintage row `row` is one this selection shows."""
        series, geography, segment, year, is_outlook, _dataset = row
        return (
            (series, geography, segment) == (self.series, self.geography, self.segment)
            and (self.first_year is None or year >= self.first_year)
            and (self.last_year is None or year <= self.last_year)
            and (self.outlook if is_outlook else self.actuals)
        )


def datasets_read(sources_dir: Path, selections: tuple[Rows, ...], universe: frozenset[str]) -> tuple[str, ...]:
    """Sorted dataset ids whose rows `selections` show (none when the sources cannot be read: the ingest then
    reports why); `universe` is every series any spec selects, read together once."""
    rows = series_rows(sources_dir, universe)
    return tuple(sorted({row[5] for row in rows for sel in selections if sel.holds(row)}))


def series_rows(sources_dir: Path, series: frozenset[str]) -> tuple[Row, ...]:
    """The latest-vintage rows of `series` with their dataset, from the files as they are now."""
    key = hashlib.sha256(json.dumps([sorted(series), source_hashes(sources_dir)]).encode()).hexdigest()
    return _cached(str(sources_dir), key, series)


def _text(path: Path) -> str:
    """A table file's words in lower case: a CSV as it is, a workbook's XML parts (its cells' strings)."""
    if path.suffix.lower() == ".csv":
        return path.read_text(encoding="utf-8", errors="replace").lower()
    try:
        with zipfile.ZipFile(path) as book:
            names = [n for n in book.namelist() if n.endswith(".xml")]
            return "".join(book.read(n).decode("utf-8", errors="replace") for n in names).lower()
    except (OSError, zipfile.BadZipFile):
        return ""


def _needles(sources_dir: Path, series: frozenset[str]) -> set[str]:
    """Words that name the series: ids, names and aliases (lower case)."""
    from pipeline.lib.ingest.catalog import SeriesRow, read_catalog

    rows, _problems = read_catalog(sources_dir, "series.csv", SeriesRow)
    words = set(series)
    for _line, row in rows:
        if row.series_id in series:
            words |= {row.name_zh, row.name_en, *(a.strip() for a in row.aliases.split("|") if a.strip())}
    return {w.lower() for w in words}


@functools.lru_cache(maxsize=8)
def _cached(folder: str, key: str, series: frozenset[str]) -> tuple[Row, ...]:
    path = output_dir() / "build" / CACHE
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if stored["key"] == key:
            return tuple(tuple(r) for r in stored["rows"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    rows = _read(Path(folder), series)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"key": key, "rows": rows}), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass
    return rows


def _read(sources_dir: Path, series: frozenset[str]) -> tuple[Row, ...]:
    """Ingest the tables that may hold `series` into a throwaway warehouse and read their latest rows."""
    import duckdb

    from pipeline.lib.ingest.catalog import load_catalogs
    from pipeline.lib.ingest.manifest import TableSpec, load_manifest
    from pipeline.lib.ingest.tables import ensure_schemas, ingest_table
    from pipeline.lib.warehouse.core import EUR_SERIES, FX_SERIES, build_core

    try:
        specs = load_manifest(sources_dir)
        needles = _needles(sources_dir, series)
    except SourceError:
        return ()

    def may_hold(spec: TableSpec) -> bool:
        return spec.series in (FX_SERIES, EUR_SERIES) or any(
            n in _text(spec.path(sources_dir)) + spec.model_dump_json().lower() for n in needles
        )

    con = duckdb.connect()
    try:
        ensure_schemas(con)
        load_catalogs(con, sources_dir)
        loaded = []
        for spec in (s for s in specs if s.kind == "observations" and may_hold(s)):
            try:
                ingest_table(con, spec, sources_dir)
            except SourceError:
                continue
            loaded.append(spec)
        build_core(con, loaded)
        found = con.execute(
            "SELECT o.series_id, o.geography, o.segment, o.year, o.is_outlook, s.dataset "
            "FROM core.observations_latest o JOIN core.sources s USING (source_id) "
            "WHERE list_contains(?, o.series_id) ORDER BY ALL",
            [sorted(series)],
        ).fetchall()
        return tuple((a, b, c, int(d), bool(e), f) for a, b, c, d, e, f in found)
    except SourceError:
        return ()
    finally:
        con.close()
