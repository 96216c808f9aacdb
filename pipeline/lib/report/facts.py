"""Named facts for the prose (report_templates/facts.yaml): resolve them on the warehouse, format per language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pipeline.config import templates_dir
from pipeline.lib import yamlio
from pipeline.lib.db import record
from pipeline.lib.ingest.units import parse_unit
from pipeline.lib.report import fmt
from pipeline.lib.report.records import Fact, HeadlineFact, ObservationFact, ProjectionFact

if TYPE_CHECKING:  # duckdb only for type hints: the PDF processes need not import it
    import duckdb

FORECAST_SOURCES = ("forecast_assumptions", "forecast_claims")


def fact_specs() -> dict[str, dict[str, Any]]:
    """The fact definitions."""
    return yamlio.load((templates_dir() / "facts.yaml").read_text(encoding="utf-8"))


def _series_unit(con: duckdb.DuckDBPyConnection, series_id: str) -> str:
    row = con.execute("SELECT any_value(unit) FROM core.observations WHERE series_id = ?", [series_id]).fetchone()
    if row[0] is None:
        raise KeyError(f"series {series_id!r} has no observations")
    return row[0]


def _latest_actual_year(con: duckdb.DuckDBPyConnection, spec: dict) -> int | None:
    """The latest year with an actual (not an outlook) of the fact's series, geography and segment."""
    return con.execute(
        "SELECT max(year) FROM core.observations_latest WHERE series_id = ? AND geography = ? AND segment = ? "
        "AND NOT is_outlook",
        [spec["series"], spec.get("geography", "CN"), spec.get("segment", "total")],
    ).fetchone()[0]


def _has_actual(con: duckdb.DuckDBPyConnection, spec: dict, year: int) -> bool:
    return (
        con.execute(
            "SELECT count(*) FROM core.observations_latest WHERE series_id = ? AND geography = ? AND segment = ? "
            "AND year = ? AND NOT is_outlook",
            [spec["series"], spec.get("geography", "CN"), spec.get("segment", "total"), year],
        ).fetchone()[0]
        > 0
    )


def _observation(con: duckdb.DuckDBPyConnection, name: str, spec: dict, facts: dict[str, Fact]) -> ObservationFact:
    """One observation. `year: latest` takes the latest actual; `same_year_as: <fact>` the year of that fact
    where this series has an actual then, else its own latest actual (the prose then states its year)."""
    year = spec.get("year")
    if "same_year_as" in spec:
        anchor = facts[spec["same_year_as"]].year
        year = anchor if _has_actual(con, spec, anchor) else _latest_actual_year(con, spec)
    elif year == "latest":
        year = _latest_actual_year(con, spec)
    spec = {**spec, "year": year}
    cur = con.execute(
        "SELECT value, value_low, value_high, unit, quantity, value_orig, unit_orig, currency_orig, qualifier, "
        "source_id, status, year, is_outlook, series_id, geography, segment FROM core.observations_latest "
        "WHERE series_id = ? AND geography = ? AND segment = ? AND year = ?",
        [spec["series"], spec.get("geography", "CN"), spec.get("segment", "total"), spec["year"]],
    )
    row = record(cur)
    if row is None:
        raise KeyError(f"fact {name!r}: no observation {spec}")
    row["status"] = "forecast" if row.pop("is_outlook") and row["status"] == "solid" else row["status"]
    row["source_ids"] = (row.pop("source_id"),)
    return ObservationFact(**row, same_year_as=spec.get("same_year_as"), format=spec.get("format"))


def _headline(con: duckdb.DuckDBPyConnection, name: str, spec: dict, facts: dict[str, Fact]) -> HeadlineFact:
    """A field of one evaluated claim: `ours`/`claimed` (amounts), `implied_cagr`/`needed_cagr`/`historical_cagr`
    (rates) or `assessment` (the verdict with its gap, worded per language)."""
    cur = con.execute(
        "SELECT target, year, ours, claimed, implied_cagr, needed_cagr, historical_cagr, gap, verdict, tolerance "
        "FROM forecast.headlines WHERE claim_id = ?",
        [spec["claim"]],
    )
    h = record(cur)
    if h is None:
        raise KeyError(f"fact {name!r}: no headline claim {spec['claim']!r}")
    members = [
        m
        for (m,) in con.execute(
            "SELECT member_series_id FROM forecast.aggregates WHERE aggregate_id = ?", [h["target"]]
        ).fetchall()
    ] or [h["target"]]
    field = spec["field"]
    common = {
        "year": h["year"],
        "source_ids": FORECAST_SOURCES,
        "claim": spec["claim"],
        "field": field,
        "format": spec.get("format"),
    }
    if field.endswith("_cagr"):
        return HeadlineFact(value=h[field], unit="rate", status="forecast", **common)
    if field == "assessment":
        return HeadlineFact(value=h["gap"], unit="assessment", verdict=h["verdict"], status="forecast", **common)
    if field == "ours" and h["ours"] is None:
        raise KeyError(f"fact {name!r}: claim {spec['claim']!r} has no base-scenario value (not assessed)")
    return HeadlineFact(
        value=h["ours"] if field == "ours" else h["claimed"],
        unit=_series_unit(con, members[0]),
        status="forecast" if field == "ours" else "seed",
        **common,
    )


def _projection(con: duckdb.DuckDBPyConnection, name: str, spec: dict, facts: dict[str, Fact]) -> ProjectionFact:
    row = con.execute(
        "SELECT value, rate, year FROM forecast.projections WHERE series_id = ? AND scenario = ? AND "
        "year = ? AND geography = ?",
        [spec["series"], spec.get("scenario", "base"), spec["year"], spec.get("geography", "CN")],
    ).fetchone()
    if row is None:
        raise KeyError(f"fact {name!r}: no projection {spec}")
    value, rate, year = row
    of_rate = spec.get("field") == "rate"
    return ProjectionFact(
        value=rate if of_rate else value,
        unit="rate" if of_rate else _series_unit(con, spec["series"]),
        year=year,
        status="forecast",
        source_ids=FORECAST_SOURCES,
        field="rate" if of_rate else None,
        series_id=spec["series"],
        geography=spec.get("geography", "CN"),
        scenario=spec.get("scenario", "base"),
        format=spec.get("format"),
    )


def resolve_facts(con: duckdb.DuckDBPyConnection) -> dict[str, Fact]:
    """Every fact of facts.yaml with its value (canonical units), year, status and sources."""
    kinds = {"observation": _observation, "headline": _headline, "projection": _projection}
    facts: dict[str, Fact] = {}
    for name, spec in fact_specs().items():
        facts[name] = kinds[spec.get("kind", "observation")](con, name, spec, facts)
    return facts


def _qualified(text: str, qualifier: str | None, lang: str, t: Mapping[str, Any]) -> str:
    """`text` with its published qualifier (超 / 约 / 以上 ...) in `lang`'s words: '超1.5万亿元', 'over RMB 1.5 tn'."""
    if not qualifier:
        return text
    prefix = next((q for q in sorted(t["qualifiers"], key=len, reverse=True) if qualifier.startswith(q)), None)
    suffix = next((q for q in t["suffix_qualifiers"] if qualifier.endswith(q)), None)
    if lang == "zh":
        return f"{t['qualifiers'][prefix] if prefix else ''}{text}{t['suffix_qualifiers'][suffix] if suffix else ''}"
    word = t["qualifiers"].get(prefix) if prefix else t["suffix_qualifiers"].get(suffix) if suffix else None
    return f"{word} {text}" if word else text


def _is_range(fact: Fact) -> bool:
    if not isinstance(fact, ObservationFact):
        return False
    low, high = fact.value_low, fact.value_high
    return low is not None and high is not None and abs(high - low) > 1e-12 * max(abs(high), 1)


def format_fact(fact: Fact, lang: str, t: Mapping[str, Any]) -> str:
    """The fact as the prose shows it in `lang`: qualifier, range, original currency where it is not CNY, and
    '(analyst assumption)' where the value is one."""
    qualifier = fact.qualifier if isinstance(fact, ObservationFact) else None
    text = _qualified(_value_text(fact, lang, t), qualifier, lang, t)
    if fact.status == "assumption":
        text += t["assumption_aside"]
    return text


def _value_text(fact: Fact, lang: str, t: Mapping[str, Any]) -> str:
    unit = fact.unit
    if unit == "rate":
        return fmt.percent(fact.value, lang) if fact.value is not None else t["verdicts"]["no_rate"]
    if isinstance(fact, HeadlineFact) and unit == "assessment":
        gap = "" if fact.value is None else fmt.percent(abs(fact.value), lang)
        return t["verdicts"][fact.verdict].format(gap=gap)
    if fact.format == "plain":
        return fmt.number(fact.value, lang, "#,##0.##")
    ends = (fact.value_low, fact.value_high) if _is_range(fact) else (fact.value,)
    observed = isinstance(fact, ObservationFact)
    if unit == "years" and observed and fact.unit_orig in ("月", "个月"):
        return fmt.join_range(*(fmt.duration(v, lang, t["units"], months=True) for v in ends))
    text = fmt.join_range(*(fmt.quantity(v, unit, lang, t["units"]) for v in ends))
    currency = fact.currency_orig if observed else None
    if unit == "CNY" and currency not in (None, "CNY"):
        original = fmt.money(fact.value_orig * parse_unit(fact.unit_orig).factor, lang, currency)
        approx = "约" if lang == "zh" else "about "
        return f"{original}（{approx}{text}）" if lang == "zh" else f"{original} ({approx}{text})"
    return text
