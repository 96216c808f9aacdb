"""The numbers of the prose: queries on the warehouse (the pages' inline references and the named facts of
report_templates/facts.yaml), resolved into `Fact` records and formatted per language."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pipeline.config import templates_dir
from pipeline.lib import yamlio
from pipeline.lib.db import record
from pipeline.lib.ingest.units import parse_unit
from pipeline.lib.report import fmt
from pipeline.lib.report.records import Fact, GrowthFact, HeadlineFact, ObservationFact, ProjectionFact

if TYPE_CHECKING:  # duckdb only for type hints: the PDF processes need not import it
    import duckdb

FORECAST_SOURCES = ("forecast_assumptions", "forecast_claims")
CLAIM_FIELDS = (
    "ours",
    "claimed",
    "implied_cagr",
    "needed_cagr",
    "historical_cagr",
    "assessment",
    "verdict",
    "finding",
    "tolerance",
)
Year = int | Literal["latest"]


class FactError(LookupError):
    """A query that names something the warehouse does not hold (its message says what)."""


@dataclass(frozen=True, kw_only=True)
class FactQuery:
    """One number of the prose as a query. kinds: observation (core.observations_latest; `year: latest` is the
    latest actual, `same_year_as` the year of another named fact), growth (average annual growth of the actuals
    from `from_year` to `year`), projection (forecast.projections; `field: rate` its growth rate) and headline (a
    field of an evaluated claim of forecast.headlines)."""

    kind: Literal["observation", "growth", "projection", "headline"] = "observation"
    series: str | None = None
    geography: str = "CN"
    segment: str = "total"
    year: Year | None = None
    from_year: Year | None = None
    same_year_as: str | None = None
    scenario: str = "base"
    claim: str | None = None
    field: str | None = None
    format: Literal["plain"] | None = None

    @classmethod
    def from_yaml(cls, name: str, spec: Mapping[str, Any]) -> FactQuery:
        """A named fact of facts.yaml; an unknown key is refused, naming the fact."""
        unknown = set(spec) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise FactError(f"fact {name!r}: unknown key(s) {', '.join(sorted(unknown))}")
        return cls(**spec)


def named_queries() -> dict[str, FactQuery]:
    """The named facts of report_templates/facts.yaml (in file order: a fact comes after the one whose year it
    takes)."""
    specs = yamlio.load((templates_dir() / "facts.yaml").read_text(encoding="utf-8")) or {}
    return {name: FactQuery.from_yaml(name, spec) for name, spec in specs.items()}


def _where(q: FactQuery) -> str:
    return f"{q.series}/{q.geography}/{q.segment}"


def _check_series(con: duckdb.DuckDBPyConnection, q: FactQuery) -> None:
    if con.execute("SELECT count(*) FROM core.series WHERE series_id = ?", [q.series]).fetchone()[0] == 0:
        raise FactError(f"unknown series {q.series!r}")


def _series_unit(con: duckdb.DuckDBPyConnection, series_id: str) -> str:
    row = con.execute("SELECT any_value(unit) FROM core.observations WHERE series_id = ?", [series_id]).fetchone()
    if row[0] is None:
        raise FactError(f"series {series_id!r} has no observations")
    return row[0]


def _latest_actual_year(con: duckdb.DuckDBPyConnection, q: FactQuery) -> int | None:
    """The latest year with an actual (not an outlook) of the query's series, geography and segment."""
    return con.execute(
        "SELECT max(year) FROM core.observations_latest WHERE series_id = ? AND geography = ? AND segment = ? "
        "AND NOT is_outlook",
        [q.series, q.geography, q.segment],
    ).fetchone()[0]


def _has_actual(con: duckdb.DuckDBPyConnection, q: FactQuery, year: int) -> bool:
    return (
        con.execute(
            "SELECT count(*) FROM core.observations_latest WHERE series_id = ? AND geography = ? AND segment = ? "
            "AND year = ? AND NOT is_outlook",
            [q.series, q.geography, q.segment, year],
        ).fetchone()[0]
        > 0
    )


def _year(con: duckdb.DuckDBPyConnection, q: FactQuery, year: Year | None) -> int:
    if year == "latest":
        found = _latest_actual_year(con, q)
        if found is None:
            raise FactError(f"no actual value of {_where(q)}")
        return found
    if year is None:
        raise FactError(f"no year given for {_where(q)}")
    return year


def _observation_row(con: duckdb.DuckDBPyConnection, q: FactQuery, year: int) -> dict[str, Any]:
    cur = con.execute(
        "SELECT value, value_low, value_high, unit, quantity, value_orig, unit_orig, currency_orig, qualifier, "
        "source_id, status, year, is_outlook, series_id, geography, segment FROM core.observations_latest "
        "WHERE series_id = ? AND geography = ? AND segment = ? AND year = ?",
        [q.series, q.geography, q.segment, year],
    )
    row = record(cur)
    if row is None:
        raise FactError(f"no value of {_where(q)} for {year}")
    return row


def _observation(con: duckdb.DuckDBPyConnection, q: FactQuery, facts: Mapping[str, Fact]) -> ObservationFact:
    """One observation. `year: latest` takes the latest actual; `same_year_as: <fact>` the year of that fact
    where this series has an actual then, else its own latest actual (the prose then states its year)."""
    _check_series(con, q)
    if q.same_year_as is not None:
        if q.same_year_as not in facts:
            raise FactError(f"same_year_as names {q.same_year_as!r}, which is not a fact defined before it")
        anchor = facts[q.same_year_as].year
        year = anchor if _has_actual(con, q, anchor) else _year(con, q, "latest")
    else:
        year = _year(con, q, q.year)
    row = _observation_row(con, q, year)
    row["status"] = "forecast" if row.pop("is_outlook") and row["status"] == "solid" else row["status"]
    row["source_ids"] = (row.pop("source_id"),)
    return ObservationFact(**row, same_year_as=q.same_year_as, format=q.format)


def _growth(con: duckdb.DuckDBPyConnection, q: FactQuery, facts: Mapping[str, Fact]) -> GrowthFact:
    """Average annual growth of the actuals between two years: (end / start)^(1 / years) − 1."""
    _check_series(con, q)
    start, end = _year(con, q, q.from_year), _year(con, q, q.year)
    if end <= start:
        raise FactError(f"growth of {_where(q)}: {end} is not after {start}")
    rows = [_observation_row(con, q, y) for y in (start, end)]
    for y, row in zip((start, end), rows, strict=True):
        if row["is_outlook"]:
            raise FactError(f"growth of {_where(q)}: {y} is an outlook, not an actual")
        if row["value"] is None or row["value"] <= 0:
            raise FactError(f"growth of {_where(q)}: no positive value for {y}")
    rate = (rows[1]["value"] / rows[0]["value"]) ** (1 / (end - start)) - 1
    statuses = {r["status"] for r in rows}
    return GrowthFact(
        value=rate,
        unit="rate",
        year=end,
        from_year=start,
        status="solid" if statuses == {"solid"} else "derived",
        source_ids=tuple(sorted({r["source_id"] for r in rows})),
        series_id=q.series,
        geography=q.geography,
        segment=q.segment,
    )


def _headline(con: duckdb.DuckDBPyConnection, q: FactQuery, facts: Mapping[str, Fact]) -> HeadlineFact:
    """A field of one evaluated claim: `ours`/`claimed` (amounts), `implied_cagr`/`needed_cagr`/`historical_cagr`
    (rates), `assessment` (the verdict with its gap, worded per language), `verdict` (the verdict's word) or
    `finding` (what the verdict says of the claim, a predicate for a heading: "falls short on current trends") or
    `tolerance` (how far the base scenario may lie from the claim and still support it)."""
    if q.field not in CLAIM_FIELDS:
        raise FactError(f"unknown claim field {q.field!r} (one of {', '.join(CLAIM_FIELDS)})")
    cur = con.execute(
        "SELECT target, year, ours, claimed, implied_cagr, needed_cagr, historical_cagr, gap, verdict, tolerance "
        "FROM forecast.headlines WHERE claim_id = ?",
        [q.claim],
    )
    h = record(cur)
    if h is None:
        raise FactError(f"unknown claim {q.claim!r}")
    members = [
        m
        for (m,) in con.execute(
            "SELECT member_series_id FROM forecast.aggregates WHERE aggregate_id = ?", [h["target"]]
        ).fetchall()
    ] or [h["target"]]
    field = q.field
    common = {"year": h["year"], "source_ids": FORECAST_SOURCES, "claim": q.claim, "field": field, "format": q.format}
    if field.endswith("_cagr"):
        return HeadlineFact(value=h[field], unit="rate", status="forecast", **common)
    if field == "tolerance":
        return HeadlineFact(value=h["tolerance"], unit="rate", status="assumption", **common)
    if field in ("assessment", "verdict", "finding"):
        return HeadlineFact(value=h["gap"], unit=field, verdict=h["verdict"], status="forecast", **common)
    if field == "ours" and h["ours"] is None:
        raise FactError(f"claim {q.claim!r} has no base-scenario value (not assessed)")
    return HeadlineFact(
        value=h["ours"] if field == "ours" else h["claimed"],
        unit=_series_unit(con, members[0]),
        status="forecast" if field == "ours" else "seed",
        **common,
    )


def _projection(con: duckdb.DuckDBPyConnection, q: FactQuery, facts: Mapping[str, Fact]) -> ProjectionFact:
    _check_series(con, q)
    row = con.execute(
        "SELECT value, rate, year FROM forecast.projections WHERE series_id = ? AND scenario = ? AND "
        "year = ? AND geography = ? AND segment = ?",
        [q.series, q.scenario, q.year, q.geography, q.segment],
    ).fetchone()
    if row is None:
        raise FactError(f"no {q.scenario} projection of {_where(q)} for {q.year}")
    value, rate, year = row
    of_rate = q.field == "rate"
    return ProjectionFact(
        value=rate if of_rate else value,
        unit="rate" if of_rate else _series_unit(con, q.series),
        year=year,
        status="forecast",
        source_ids=FORECAST_SOURCES,
        field="rate" if of_rate else None,
        series_id=q.series,
        geography=q.geography,
        scenario=q.scenario,
        format=q.format,
    )


KINDS = {"observation": _observation, "growth": _growth, "headline": _headline, "projection": _projection}


def resolve_fact(con: duckdb.DuckDBPyConnection, query: FactQuery, facts: Mapping[str, Fact]) -> Fact:
    """One query's value (canonical units), year, status and sources; `facts` are those resolved before it (what
    `same_year_as` may name). Raises FactError naming what the warehouse lacks."""
    return KINDS[query.kind](con, query, facts)


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


def opens_with_qualifier(fact: Fact, t: Mapping[str, Any]) -> bool:
    """Whether the printed value starts with its qualifier (超 / 约 ...), which then stands in for a copula."""
    return isinstance(fact, ObservationFact) and any((fact.qualifier or "").startswith(q) for q in t["qualifiers"])


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


def prose_text(fact: Fact, facts: Mapping[str, Fact], lang: str, t: Mapping[str, Any]) -> str:
    """`format_fact`, plus its own year where it is stated in the year of another fact that has no value for it."""
    text = format_fact(fact, lang, t)
    if isinstance(fact, ObservationFact) and fact.same_year_as:
        anchor = facts.get(fact.same_year_as)
        if anchor is not None and anchor.year != fact.year:
            text += t["year_aside"].format(year=fact.year)
    return text


def _value_text(fact: Fact, lang: str, t: Mapping[str, Any]) -> str:
    unit = fact.unit
    if unit == "rate":
        return fmt.percent(fact.value, lang) if fact.value is not None else t["verdicts"]["no_rate"]
    if isinstance(fact, HeadlineFact) and unit == "assessment":
        gap = "" if fact.value is None else fmt.percent(abs(fact.value), lang)
        return t["verdicts"][fact.verdict].format(gap=gap)
    if isinstance(fact, HeadlineFact) and unit == "verdict":
        return t["verdict_words"][fact.verdict]
    if isinstance(fact, HeadlineFact) and unit == "finding":
        return t["verdict_findings"][fact.verdict]
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
