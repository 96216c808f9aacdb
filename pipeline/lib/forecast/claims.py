"""Published claims evaluated against the independent base scenario: supported, exceeded, missed or not assessed,
with the gap, the growth the claim needs and the growth the history shows."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.lib.forecast import methods
from pipeline.lib.forecast.history import SeriesKey
from pipeline.lib.forecast.inputs import Claim
from pipeline.lib.forecast.projection import Projection

VERDICTS = ("supported", "exceeded", "missed", "not_assessed")


@dataclass(frozen=True)
class ClaimResult:
    """One claim against the base scenario."""

    claim_id: str
    target: str
    year: int
    comparator: str
    claimed: float
    tolerance: float
    ours: float | None
    from_year: int | None
    from_value: float | None
    implied_cagr: float | None
    needed_cagr: float | None
    historical_cagr: float | None
    history_from: int | None
    gap: float | None
    verdict: str
    passed: bool
    base_method: str | None
    text_zh: str
    text_en: str
    source: str


def verdict(gap: float | None, tolerance: float) -> str:
    """supported within ±tolerance, exceeded above it, missed below it; not_assessed without a base value."""
    if gap is None:
        return "not_assessed"
    if abs(gap) <= tolerance + 1e-12:
        return "supported"
    return "exceeded" if gap > 0 else "missed"


def holds(comparator: str, word: str) -> bool:
    """Whether the claim holds given the verdict: ≥ claims hold unless missed, ≤ unless exceeded, ≈ only if
    supported."""
    if word == "not_assessed":
        return False
    if comparator in (">=", "cagr>="):
        return word != "missed"
    if comparator == "<=":
        return word != "exceeded"
    return word == "supported"


def _aggregate_history(members: list[str], hists: dict[SeriesKey, dict[int, float]]) -> dict[int, float]:
    per = [hists.get((m, "CN", "total"), {}) for m in members]
    common = set.intersection(*(set(h) for h in per)) if per else set()
    return {y: sum(h[y] for h in per) for y in sorted(common)}


def evaluate_claims(
    claims: list[Claim],
    aggregates: dict[str, list[str]],
    projections: list[Projection],
    hists: dict[SeriesKey, dict[int, float]],
) -> list[ClaimResult]:
    """Compare the base scenario with each published claim."""
    base = {(p.series_id, p.year): p for p in projections if p.scenario == "base" and p.geography == "CN"}
    methods_of = {p.series_id: p.fitted_method or p.method for p in base.values()}
    rows = []
    for c in claims:
        members = aggregates.get(c.target, [c.target])
        actual = _aggregate_history(members, hists)

        def value_at(year: int, members: list[str] = members) -> float | None:
            parts = [
                base[(m, year)].value if (m, year) in base else hists.get((m, "CN", "total"), {}).get(year)
                for m in members
            ]
            return sum(parts) if all(p is not None for p in parts) else None

        assessed = all(methods_of.get(m) for m in members)
        ours = value_at(c.year) if assessed else None
        start = c.from_year or (max(actual) if actual else None)
        from_value = value_at(start) if start is not None else None
        usable = from_value is not None and from_value > 0 and start is not None and c.year > start
        implied = methods.implied_rate(from_value, start, ours, c.year) if usable and ours else None
        needed = (
            methods.implied_rate(from_value, start, c.value, c.year)
            if usable and not c.comparator.startswith("cagr")
            else (c.value if c.comparator.startswith("cagr") else None)
        )
        hist_cagr = methods.historical_cagr(actual) if len(actual) >= 2 else None
        if c.comparator.startswith("cagr"):
            gap = None if implied is None else implied - c.value
        else:
            gap = None if ours is None else ours / c.value - 1
        word = verdict(gap, c.tolerance)
        rows.append(
            ClaimResult(
                c.claim_id,
                c.target,
                c.year,
                c.comparator,
                c.value,
                c.tolerance,
                ours,
                start,
                from_value,
                implied,
                needed,
                hist_cagr,
                min(actual) if len(actual) >= 2 else None,
                gap,
                word,
                holds(c.comparator, word),
                ", ".join(sorted({methods_of[m] for m in members})) if assessed else None,
                c.text_zh,
                c.text_en,
                c.source,
            )
        )
    return rows


def claim_messages(results: list[ClaimResult]) -> list[str]:
    """One line per claim for logs and the CLI: verdict, base value and gap."""
    out = []
    for h in results:
        if h.ours is None:
            out.append(f"{h.claim_id} ({h.text_en}): not assessed, no independent base scenario")
        elif h.comparator.startswith("cagr"):
            out.append(
                f"{h.claim_id} ({h.text_en}): {h.verdict}, implied CAGR {h.implied_cagr:.1%} vs claimed "
                f"{h.claimed:.1%} ({h.gap * 100:+.1f} pp)"
            )
        else:
            out.append(
                f"{h.claim_id} ({h.text_en}): {h.verdict}, base scenario {h.ours:,.4g} vs claimed "
                f"{h.comparator} {h.claimed:,.4g} ({h.gap:+.1%})"
            )
    return out
