"""Named queries over the warehouse: the only place the report reads numbers from (cf. Evidence.dev)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import duckdb


@dataclass(frozen=True)
class Fact:
    """One number with its provenance, as the templates see it."""

    series_id: str
    geography: str
    segment: str
    year: int
    value: float
    unit: str
    source_id: str
    status: str
    qualifier: str | None = None

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)


FACT_COLUMNS = "series_id, geography, segment, year, value, unit, source_id, status, qualifier"


def fact(con: duckdb.DuckDBPyConnection, series_id: str, year: int, geography: str = "CN",
         segment: str = "total") -> Fact:
    """The latest vintage of one observation; KeyError naming it if absent."""
    row = con.execute(f"SELECT {FACT_COLUMNS} FROM core.observations_latest WHERE series_id = ? AND "
                      "geography = ? AND segment = ? AND year = ?", [series_id, geography, segment, year]).fetchone()
    if row is None:
        raise KeyError(f"no observation {series_id}/{geography}/{segment}/{year} in core.observations")
    return Fact(*row)


def series_facts(con: duckdb.DuckDBPyConnection, series_ids: list[str], geography: str = "CN",
                 segment: str = "total") -> list[Fact]:
    """All years of some series (latest vintage), ordered by series and year."""
    rows = con.execute(f"SELECT {FACT_COLUMNS} FROM core.observations_latest WHERE series_id IN "
                       f"({', '.join('?' * len(series_ids))}) AND geography = ? AND segment = ? "
                       "ORDER BY series_id, year", [*series_ids, geography, segment]).fetchall()
    return [Fact(*r) for r in rows]


def labels(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """Bilingual names: {'series:cloud_market': {'zh': ..., 'en': ...}, 'geography:CN': {...}, ...}."""
    out = {f"series:{s}": {"zh": zh, "en": en}
           for s, zh, en in con.execute("SELECT series_id, name_zh, name_en FROM core.series").fetchall()}
    out |= {f"{d}:{c}": {"zh": zh, "en": en}
            for d, c, zh, en in con.execute("SELECT dimension, code, name_zh, name_en FROM core.labels").fetchall()}
    return out


def sources(con: duckdb.DuckDBPyConnection, ids: list[str] | None = None) -> list[dict]:
    """Citations of source tables (all, or the given ids), in id order."""
    sql = ("SELECT source_id, publisher, title_zh, title_en, published::VARCHAR AS published, reference, status "
           "FROM core.sources")
    params: list = []
    if ids is not None:
        sql += f" WHERE source_id IN ({', '.join('?' * len(ids))})"
        params = list(ids)
    cur = con.execute(sql + " ORDER BY source_id", params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def investment_plans(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Figure 7: plans with their CNY value and the original amount/unit."""
    cur = con.execute("SELECT geography, segment, year, value, value_orig, unit_orig, currency_orig, source_id, "
                      "status FROM core.observations_latest WHERE series_id = 'investment_plan' ORDER BY value DESC")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
