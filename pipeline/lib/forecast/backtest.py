"""Rolling-origin backtest without leakage: at each origin a method is fitted on the points known then and scored on
the next one and two years. A derived point is in a training window only if every year it derives from is too."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.lib.forecast import methods
from pipeline.lib.forecast.history import Point

HORIZONS = (1, 2)
MIN_TRAIN = 3
MIN_POINTS = 5
CANDIDATES = ("naive", "hist_cagr", "trend")


@dataclass(frozen=True)
class BacktestRow:
    """Mean absolute percentage error of one method at one horizon over every origin that allowed it."""

    series_id: str
    geography: str
    segment: str
    holdout_years: int
    train_from: int
    train_to: int
    method: str
    rate: float
    mape: float
    n_train: int
    n_origins: int


def training_window(points: dict[int, Point], origin: int) -> dict[int, float]:
    """The values known at `origin`: years up to it, without derived points whose basis lies after it."""
    return {y: p.value for y, p in points.items() if y <= origin and all(src <= origin for src in p.derived_from)}


def candidate_rates(train: dict[int, float]) -> dict[str, float]:
    """Annual rate of each candidate method fitted on `train`."""
    rates = {"naive": 0.0, "hist_cagr": methods.historical_cagr(train)}
    if len(train) >= 4:
        rates["trend"] = methods.fit_log_linear(train).rate
    return rates


def rolling_origin(series_key: tuple[str, str, str], points: dict[int, Point]) -> list[BacktestRow]:
    """One row per method and horizon: the MAPE over every origin where the training window is clean."""
    errors: dict[tuple[str, int], list[float]] = {}
    last: dict[str, tuple[int, float, int, int]] = {}
    years = sorted(points)
    for origin in years:
        train = training_window(points, origin)
        if origin not in train or len(train) < MIN_TRAIN:
            continue
        for method, rate in candidate_rates(train).items():
            for h in HORIZONS:
                if origin + h not in points:
                    continue
                forecast = train[origin] * (1 + rate) ** h
                actual = points[origin + h].value
                errors.setdefault((method, h), []).append(abs(forecast - actual) / abs(actual))
                last[method] = (origin, rate, len(train), min(train))
    rows = []
    for (method, h), errs in sorted(errors.items()):
        origin, rate, n_train, first = last[method]
        rows.append(BacktestRow(*series_key, h, first, origin, method, rate, sum(errs) / len(errs), n_train, len(errs)))
    return rows


def best_method(rows: list[BacktestRow]) -> str | None:
    """The candidate with the lowest mean error over all its scored forecasts (ties: the simpler method)."""
    scores: dict[str, list[float]] = {}
    for r in rows:
        scores.setdefault(r.method, []).extend([r.mape] * r.n_origins)
    ranked = sorted((sum(e) / len(e), CANDIDATES.index(m), m) for m, e in scores.items() if len(e) >= 2)
    return ranked[0][2] if ranked else None
