"""What readers see of the forecasts: the assumptions table shows each scenario's growth (the backtest's choice
and the drivers named), and every field of an evaluated claim the prose uses has a name in the changelog."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipeline.lib.report import fmt
from pipeline.lib.report.changes import CLAIM_FIELD_COLUMNS, fact_name
from pipeline.lib.report.context import _context_tables, build_context, catalog
from pipeline.lib.report.records import Changes, HeadlineFact


@pytest.fixture(scope="module")
def context(built_warehouse: Path) -> dict:
    con = duckdb.connect(str(built_warehouse), read_only=True)
    try:
        ctx = build_context(con)
        rates = dict(
            con.execute(
                "SELECT a.assumption_id, p.rate FROM forecast.assumptions a JOIN forecast.projections p "
                "ON p.assumption_id = a.assumption_id AND p.year = a.horizon"
            ).fetchall()
        )
    finally:
        con.close()
    return {"ctx": ctx.with_changes(Changes(previous=None)), "rates": rates}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_assumptions_table_shows_the_growth_each_scenario_makes(context: dict, lang: str) -> None:
    t = catalog(lang)
    ctx = context["ctx"]
    rows = _context_tables(ctx, lang, t)["assumptions"].rows
    assert len(rows) == len(ctx.assumptions)
    for a, row in zip(ctx.assumptions, rows, strict=True):
        method, rate = row[2].text, row[3].text
        if a.method == "target":
            year = int(a.target_year)
            assert rate.endswith(f"（{year}年）" if lang == "zh" else f"({year})")  # full-width brackets in zh
        else:
            assert rate == fmt.percent(context["rates"][a.assumption_id], lang)
        if a.method == "best":
            assert t["methods"][a.fitted_method] in method
        if a.method == "driver":
            assert ctx.labels.get(f"series:{a.driver}", ctx.labels.get(f"aggregate:{a.driver}"))[lang] in method
        assert method != a.method and "_" not in method, "a method id never reaches the page"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_claim_field_the_prose_uses_has_a_changelog_name(context: dict, lang: str) -> None:
    t = catalog(lang)
    ctx = context["ctx"]
    headline_facts = {n: f for n, f in ctx.facts.items() if isinstance(f, HeadlineFact)}
    assert len(headline_facts) >= 15, "the pages reference the claims' fields"
    for name, fact in headline_facts.items():
        assert fact.field in CLAIM_FIELD_COLUMNS, name
        claim = next(h for h in ctx.headlines if h.claim_id == fact.claim)
        text = fact_name(fact, ctx, lang, t)
        assert claim.text(lang) in text and t["columns"][CLAIM_FIELD_COLUMNS[fact.field]] in text
