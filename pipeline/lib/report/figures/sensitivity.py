"""Sensitivity: the projected headline values of the first claim year when every base growth rate shifts by the
engine's range of percentage points (forecast.sensitivity), against the published claim (dashed line)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from pipeline.lib.report import style
from pipeline.lib.report.figures import _common as c
from pipeline.lib.report.figures.base import chart

ID = "sensitivity"
MISSES = {"alpha": 0.22, "linewidth": 0, "hatch": "////"}  # hatched: told apart from "met" without colour
TOLERANCE = {"facecolor": "none", "edgecolor": c.GREY, "hatch": "....", "linewidth": 0, "alpha": 0.5}
FINE = 301  # points of the interpolated curve that colours the met / missed band


def query(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Per claim of the first claim year: target name/quantity, claim, comparator, tolerance and (pp, value)."""
    year = con.execute("SELECT min(year) FROM forecast.sensitivity").fetchone()[0]
    series = c.names(con, "series")
    aggregates = {
        a: ({"zh": zh, "en": en}, members)
        for a, zh, en, members in con.execute(
            "SELECT aggregate_id, any_value(name_zh), any_value(name_en), list(member_series_id ORDER BY rowid) "
            "FROM forecast.aggregates GROUP BY aggregate_id"
        ).fetchall()
    }
    panels = []
    for claim_id, target in con.execute(
        "SELECT DISTINCT claim_id, target FROM forecast.sensitivity WHERE year = ? ORDER BY claim_id", [year]
    ).fetchall():
        head = c.headlines(con, target)
        h = next(x for x in head if x["claim_id"] == claim_id)
        name, members = aggregates.get(target, (series.get(target), [target]))
        quantity = con.execute(
            "SELECT any_value(quantity) FROM core.observations_latest WHERE series_id = ?", [members[0]]
        ).fetchone()[0]
        points = [
            {"delta_pp": pp, "value": v}
            for pp, v in con.execute(
                "SELECT delta_pp, value FROM forecast.sensitivity WHERE claim_id = ? ORDER BY delta_pp", [claim_id]
            ).fetchall()
        ]
        history_sources = [
            s
            for (s,) in con.execute(
                "SELECT DISTINCT source_id FROM core.observations_latest WHERE NOT is_outlook AND geography = 'CN' "
                "AND segment = 'total' AND list_contains(?, series_id) ORDER BY 1",
                [members],
            ).fetchall()
        ]
        panels.append(
            {
                "claim_id": claim_id,
                "target": target,
                "name": name,
                "members": members,
                "quantity": quantity,
                "year": year,
                "claimed": h["claimed"],
                "comparator": h["comparator"],
                "tolerance": h["tolerance"],
                "claim_text": {"zh": h["text_zh"], "en": h["text_en"]},
                "points": points,
                "history_sources": history_sources,
            }
        )
    order = {"money": 0}
    panels.sort(key=lambda p: (order.get(p["quantity"], 1), p["claimed"]))
    ids = {s for p in panels for s in p["history_sources"]} | {c.FORECAST_SOURCE, c.CLAIMS_SOURCE}
    if any(p["target"] in aggregates for p in panels):
        ids.add(c.AGGREGATES_SOURCE)
    return c.clean({"id": ID, "year": year, "panels": panels, "source_ids": sorted(ids), "flagged": True})


def _scale(p: dict[str, Any], lang: str) -> tuple[float, str]:
    if p["quantity"] == "money":
        large = p["claimed"] >= (c.WAN_YI if lang == "zh" else c.TN)
        return c.money_unit(lang, large)
    return (c.WAN if lang == "zh" else c.MILLION), c.text(ID, "unit_count", lang)


def _holds(value: float, claim: float, comparator: str, tol: float) -> bool:
    """Whether a projected value satisfies the claim within its tolerance `tol` (same rule as forecast.claims)."""
    if comparator == ">=":
        return value >= claim - tol - 1e-9
    if comparator == "<=":
        return value <= claim + tol + 1e-9
    return abs(value - claim) <= tol + 1e-9


def draw(data: dict[str, Any], lang: str, path: Path) -> Path:
    """Small multiples: value vs shift, the band between the curve and the claim (met / missed), claim line."""
    plt = style.setup()
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    panels = data["panels"]
    ncols = 3
    nrows = (len(panels) + 1 + ncols - 1) // ncols
    fig = plt.figure(figsize=(style.FIGSIZE[0], 2.05 * nrows))
    grid = fig.add_gridspec(nrows, ncols, left=0.08, right=0.99, bottom=0.1, top=0.9, wspace=0.32, hspace=0.62)
    flat = [fig.add_subplot(grid[i // ncols, i % ncols]) for i in range(len(panels))]
    meets_color, misses_color = style.PALETTE[4], style.PALETTE[7]
    for ax, p in zip(flat, panels, strict=False):
        divisor, unit = _scale(p, lang)
        xs = [q["delta_pp"] for q in p["points"]]
        ys = [q["value"] / divisor for q in p["points"]]
        claim = p["claimed"] / divisor
        tol = (p["tolerance"] or 0) * claim
        fine_x = np.linspace(xs[0], xs[-1], FINE)
        fine_y = np.interp(fine_x, xs, ys)
        ok = np.array([_holds(y, claim, p["comparator"], tol) for y in fine_y])
        ax.fill_between(fine_x, fine_y, claim, where=ok, color=meets_color, alpha=0.22, linewidth=0)
        ax.fill_between(fine_x, fine_y, claim, where=~ok, **MISSES, facecolor=misses_color, edgecolor=misses_color)
        if tol:
            ax.axhspan(claim - tol, claim + tol, **TOLERANCE)
        ax.axhline(claim, color=c.DARK, linestyle=(0, (4, 2)), linewidth=0.9)
        ax.plot(xs, ys, color=style.PALETTE[0], linewidth=1.5, marker="o", markersize=2.5)
        base = next((y for x, y in zip(xs, ys, strict=True) if x == 0), None)
        if base is not None:
            ax.plot([0], [base], marker="o", markersize=5.5, color=style.PALETTE[0], markeredgecolor="white", zorder=5)
        title = c.text(
            ID, "panel", lang, name=c.wrap(p["name"][lang], lang, 16 if lang == "zh" else 32), year=p["year"], unit=unit
        )
        ax.set_title(title, fontsize=7.4, loc="left")
        ax.set_xticks(sorted({xs[0], 0, xs[-1]}) if xs[0] < 0 < xs[-1] else [xs[0], xs[-1]])
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: c.number(v, lang, "+#,##0;-#,##0") if v else "0"))
        c.number_axis(ax, "y", lang)
        ax.tick_params(labelsize=7)
        lo, hi = min([*ys, claim - tol]), max([*ys, claim + tol])
        ax.set_ylim(lo - (hi - lo) * 0.08, hi + (hi - lo) * 0.08)
    for ax in flat[(nrows - 1) * ncols :]:
        ax.set_xlabel(c.text(ID, "axis_x", lang), fontsize=7)
    from matplotlib.patches import Patch

    handles = [
        c.line_handle(
            c.text(ID, "legend.projection", lang), style.PALETTE[0], linewidth=1.5, marker="o", markersize=2.5
        ),
        c.line_handle(
            c.text(ID, "legend.base", lang),
            style.PALETTE[0],
            linestyle="none",
            marker="o",
            markersize=5.5,
            markeredgecolor="white",
        ),
        c.line_handle(c.text(ID, "legend.claim", lang), c.DARK, linestyle=(0, (4, 2)), linewidth=0.9),
        Patch(color=meets_color, alpha=0.22, linewidth=0, label=c.text(ID, "legend.meets", lang)),
        Patch(**MISSES, facecolor=misses_color, edgecolor=misses_color, label=c.text(ID, "legend.misses", lang)),
    ]
    if any(p["tolerance"] for p in panels):
        handles.append(Patch(**TOLERANCE, label=c.text(ID, "legend.tolerance", lang)))
    if len(panels) < nrows * ncols:  # the legend takes the first free cell of the grid
        box = grid[len(panels) // ncols, len(panels) % ncols].get_position(fig)
        c.legend(fig, handles, loc="center left", bbox_to_anchor=(box.x0, (box.y0 + box.y1) / 2))
    else:
        c.legend(fig, handles, loc="upper left", bbox_to_anchor=(0.0, 0.0), ncols=3)
    return style.save(fig, path)


FIGURE = chart(
    ID,
    __doc__,
    __file__,
    query,
    draw,
    subject="claim_sensitivity",
    datasets=(
        "caam_2021_annual",
        "caict_digital_economy_2023",
        "fig11_market_history_derived",
        "fig11_market_size",
        "fig12_core_related_industry",
        "text_digital_economy",
        "text_nev_auto",
    ),
    forecasts=("sensitivity", "aggregates", "headlines"),
)
