"""One row of each forecast input (sources/forecast_*.csv) as a pydantic model: the columns a file may have (any
other is refused), the values each column accepts. What needs the warehouse (known series, units, FX) is checked
in `inputs`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator

from pipeline.lib.validation import InputModel

SCENARIOS = ("low", "base", "high")
HISTORY_METHODS = ("trend", "hist_cagr", "best")
DRIVEN_METHODS = ("driver", "share_of")
METHODS = ("cagr", *HISTORY_METHODS, *DRIVEN_METHODS, "target")
COMPARATORS = (">=", "<=", "≈", "cagr>=", "cagr≈")
BOUND_KINDS = ("not_above", "range", "shares_sum", "growth_range")
RATE_MIN, RATE_MAX = -100.0, 200.0
YEAR_MIN, YEAR_MAX = 1940, 2060


def _number(text: Any) -> float | None:
    """A cell as a number ('1,000' reads 1000); an empty cell is None."""
    if text in (None, ""):
        return None
    try:
        return float(str(text).replace(",", ""))
    except ValueError:
        raise ValueError(f"not a number: {text!r}; expected a number such as 20 or 1,000.5") from None


def _year(text: Any) -> int | None:
    """A cell as a year between YEAR_MIN and YEAR_MAX; an empty cell is None."""
    value = _number(text)
    if value is None:
        return None
    if not value.is_integer() or not YEAR_MIN <= value <= YEAR_MAX:
        raise ValueError(f"implausible year {text!r}")
    return int(value)


def _blank_none(text: Any) -> Any:
    return None if text == "" else text


Id = Annotated[str, Field(min_length=1)]
Number = Annotated[float | None, BeforeValidator(_number)]
Year = Annotated[int | None, BeforeValidator(_year)]
Text = Annotated[str | None, BeforeValidator(_blank_none)]


class AssumptionRow(InputModel):
    """One row of forecast_assumptions.csv: how one series is projected in one scenario."""

    assumption_id: Id = Field(description="unique id of the assumption", examples=["dc_base"])
    series_id: str | None = Field(description="the series projected (a series of series.csv)")
    geography: Text = Field(None, description="the series' geography (default CN)")
    segment: Text = Field(None, description="the series' segment (default total)")
    scenario: Literal[SCENARIOS] = Field(description="which scenario the row projects")
    method: Literal[METHODS] = Field(description="how the series is projected")
    rate_pct: Number = Field(description="yearly growth in percent (method cagr)", examples=["20"])
    target_value: Number = Field(description="the value reached in target_year (method target)")
    target_unit: Text = Field(description="the unit of target_value", examples=["万亿元"])
    target_year: Year = Field(description="the year target_value is reached")
    horizon: Year = Field(description="the last projected year", examples=["2025"])
    driver: Text = Field(None, description="the series or aggregate driving the projection (driver, share_of)")
    share_series: Text = Field(None, description="the series whose share is projected (method share_of)")
    rationale_zh: str | None = Field(description="why, in Chinese")
    rationale_en: str | None = Field(description="why, in English")
    source: str | None = Field(description="where the assumption comes from")

    @field_validator("rate_pct")
    @classmethod
    def _plausible_rate(cls, rate: float | None) -> float | None:
        if rate is not None and not RATE_MIN < rate <= RATE_MAX:
            raise ValueError(f"growth rate {rate:g}% outside ({RATE_MIN:g}%, {RATE_MAX:g}%]")
        return rate

    @field_validator("horizon")
    @classmethod
    def _has_horizon(cls, horizon: int | None) -> int:
        if horizon is None:
            raise ValueError("horizon (last projected year) is required")
        return horizon


class AggregateRow(InputModel):
    """One row of forecast_aggregates.csv: one member series of an aggregate."""

    aggregate_id: Id = Field(description="the aggregate's id (one row per member)", examples=["dc_cloud_ai"])
    member_series_id: str | None = Field(description="a member series (a series of series.csv)")
    name_zh: str | None = Field(description="the aggregate's name in Chinese")
    name_en: str | None = Field(description="the aggregate's name in English")


class ClaimRow(InputModel):
    """One row of forecast_claims.csv: a published claim, evaluated against the base scenario."""

    claim_id: Id = Field(description="unique id of the claim", examples=["core_2025"])
    target: str | None = Field(description="a series with assumptions or an aggregate")
    geography: Text = Field(None, description="the geography (default CN)")
    year: Year = Field(description="the year the claim is about")
    comparator: Literal[COMPARATORS] = Field(description="how the projection is compared with the value")
    value: Number = Field(description="the claimed value (a percentage for cagr comparators)")
    unit: Text = Field(description="the unit of value")
    tolerance_pct: Number = Field(description="tolerance in percent")
    from_year: Year = Field(description="the first year of a CAGR claim")
    stated_growth_pct: Number = Field(None, description="the growth the publication states, in percent")
    text_zh: str | None = Field(description="the claim as published, in Chinese")
    text_en: str | None = Field(description="the claim, in English")
    source: str | None = Field(description="where the claim is published")


class BoundRow(InputModel):
    """One row of forecast_bounds.csv: a plausibility bound every projection must respect."""

    bound_id: Id = Field(description="unique id of the bound", examples=["de_within_gdp"])
    kind: Literal[BOUND_KINDS] = Field(description="what the bound limits")
    series_id: Text = Field(description="the series bounded (or give quantity)")
    quantity: Text = Field(description="every series of this quantity is bounded (or give series_id)")
    other_series_id: Text = Field(description="the series it may not exceed (not_above)")
    low: Number = Field(description="the lowest value allowed (growth_range: in percent)")
    high: Number = Field(description="the highest value allowed (growth_range: in percent)")
    rationale_zh: str | None = Field(description="why, in Chinese")
    rationale_en: str | None = Field(description="why, in English")
    source: Text = Field(description="where the bound comes from")

    @field_validator("source")
    @classmethod
    def _named_source(cls, source: str | None) -> str:
        if not source:
            raise ValueError("every bound names its source")
        return source
