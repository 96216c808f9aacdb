"""Backtest: rolling-origin mean absolute percentage error of each forecast method one and two years ahead
(forecast.backtest) for the series the report projects (forecast.assumptions), as grouped bars."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from pipeline.lib.report import style
from pipeline.lib.report.figures import _common as c
from pipeline.lib.report.figures.base import chart

ID = "backtest"


def query(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Groups (series × horizon) with one MAPE per method, plus the sources of the histories tested."""
    series = c.names(con, "series")
    rows = con.execute(
        "SELECT series_id, geography, segment, holdout_years, train_from, train_to, method, rate, "
        "mape, n_train FROM forecast.backtest "
        "WHERE series_id IN (SELECT series_id FROM forecast.assumptions) "
        "ORDER BY series_id, geography, segment, holdout_years, method"
    ).fetchall()
    groups: dict[tuple, dict[str, Any]] = {}
    methods: list[str] = []
    for sid, geo, seg, hold, t_from, t_to, method, rate, mape, n in rows:
        g = groups.setdefault(
            (sid, geo, seg, hold),
            {
                "series_id": sid,
                "geography": geo,
                "segment": seg,
                "name": series[sid],
                "holdout_years": hold,
                "train_from": t_from,
                "train_to": t_to,
                "n_train": n,
                "methods": {},
            },
        )
        g["methods"][method] = {"mape": mape, "rate": rate}
        if method not in methods:
            methods.append(method)
    order = {m: i for i, m in enumerate(("naive", "hist_cagr", "trend"))}
    methods.sort(key=lambda m: (order.get(m, len(order)), m))
    ids = set()
    for sid, geo, seg, _hold in groups:
        ids |= {
            s
            for (s,) in con.execute(
                "SELECT DISTINCT source_id FROM core.observations_latest WHERE series_id = ? "
                "AND geography = ? AND segment = ? AND NOT is_outlook",
                [sid, geo, seg],
            ).fetchall()
        }
    return c.clean(
        {"id": ID, "methods": methods, "groups": list(groups.values()), "source_ids": sorted(ids), "flagged": True}
    )


def _method_style(i: int) -> dict[str, Any]:
    """The bars of the i-th method: a colour and a hatch of its own."""
    color = style.PALETTE[[0, 1, 4, 5, 2][i % 5]]
    return {"facecolor": color, "edgecolor": c.DARK, "hatch": style.HATCHES[i % len(style.HATCHES)], "linewidth": 0.5}


def draw(data: dict[str, Any], lang: str, path: Path) -> Path:
    """Grouped bars: one group per series and hold-out, one colour and hatch per method; MAPE labels in %."""
    plt = style.setup()
    groups, methods = data["groups"], data["methods"]
    fig, ax = plt.subplots(figsize=(style.FIGSIZE[0], 3.0))
    width = 0.8 / max(len(methods), 1)
    top = max((m["mape"] for g in groups for m in g["methods"].values()), default=0) * c.PERCENT
    for mi, method in enumerate(methods):
        for gi, g in enumerate(groups):
            m = g["methods"].get(method)
            if m is None:
                continue
            x = gi + (mi - (len(methods) - 1) / 2) * width
            ax.bar(x, m["mape"] * c.PERCENT, width * 0.9, **_method_style(mi))
            ax.text(
                x,
                m["mape"] * c.PERCENT,
                c.number(m["mape"] * c.PERCENT, lang, "#,##0.0") + "%",
                ha="center",
                va="bottom",
                fontsize=c.SMALL,
            )
    labels = [
        c.text(
            ID,
            "group",
            lang,
            name=c.wrap(g["name"][lang], lang, 7 if lang == "zh" else 14),
            n=g["holdout_years"],
            start=g["train_from"],
            end=g["train_to"],
        )
        for g in groups
    ]
    ax.set_xticks(range(len(groups)), labels)
    ax.tick_params(axis="x", length=0)
    ax.set_ylim(0, top * 1.15)
    c.number_axis(ax, "y", lang, "#,##0", suffix="%")
    ax.set_ylabel(c.text(ID, "axis", lang))
    from matplotlib.patches import Patch

    handles = [Patch(label=c.text(ID, f"method.{m}", lang), **_method_style(i)) for i, m in enumerate(methods)]
    c.legend(ax, handles, loc="upper right")
    return style.save(fig, path)


FIGURE = chart(
    ID,
    __doc__,
    __file__,
    query,
    draw,
    subject="forecast_backtest",
    datasets=(
        "caict_digital_economy_2023",
        "fig11_market_history_derived",
        "fig11_market_size",
        "gdp_caict_basis",
        "text_digital_economy",
    ),
    forecasts=("backtest", "assumptions"),
)
