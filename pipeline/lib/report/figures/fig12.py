"""Figure 12: computing-power core and related industries: the latest actual, the base-scenario projection for the
claim year with its low–high range, and the seed's published estimate as a marker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from pipeline.lib.report import style
from pipeline.lib.report.figures import _common as c
from pipeline.lib.report.figures.base import chart

ID = "fig12"
SERIES = ("core_industry", "related_industry")
CLAIM_X = 1.45  # the claim marker sits right of the projection bar


def query(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Per industry: latest actual, base/low/high projection in the claim year, the claim (forecast.headlines)."""
    items, ids = [], set()
    for sid in SERIES:
        s = c.projection_series(con, sid)
        actual = s["history"][-1]
        claims = c.headlines(con, sid)
        claim = claims[0] if claims else None
        year = claim["year"] if claim else max(p["year"] for p in s["scenarios"]["base"]["points"])
        at = {sc: next(p["value"] for p in v["points"] if p["year"] == year) for sc, v in s["scenarios"].items()}
        base = s["scenarios"]["base"]
        items.append(
            {
                "series_id": sid,
                "name": s["name"],
                "unit": s["unit"],
                "actual": {
                    "year": actual["year"],
                    "value": actual["value"],
                    "status": actual["status"],
                    "mark": actual["mark"],
                    "value_text": actual["value_text"],
                    "qualifier": actual["qualifier"],
                    "source_id": actual["source_id"],
                },
                "projection": {
                    "year": year,
                    "base": at.get("base"),
                    "low": at.get("low"),
                    "high": at.get("high"),
                    "method": base["method"],
                    "rate": (at["base"] / actual["value"]) ** (1 / (year - actual["year"])) - 1,
                    "rationale": base["rationale"],
                },
                "claim": None
                if claim is None
                else {
                    "year": claim["year"],
                    "value": claim["claimed"],
                    "comparator": claim["comparator"],
                    "passed": claim["passed"],
                    "verdict": claim["verdict"],
                    "text": {"zh": claim["text_zh"], "en": claim["text_en"]},
                    "source": claim["source"],
                },
            }
        )
        ids |= {actual["source_id"], c.FORECAST_SOURCE} | ({c.CLAIMS_SOURCE} if claim else set())
    return {"id": ID, "items": items, "source_ids": sorted(ids), "flagged": True}


def draw(data: dict[str, Any], lang: str, path: Path) -> Path:
    """One panel per industry (own scale): actual bar, hollow projection bar with low–high whisker, claim diamond."""
    plt = style.setup()
    items = data["items"]
    divisor, _unit = c.money_unit(lang, large=True)
    fig, axes = plt.subplots(1, len(items), figsize=(style.FIGSIZE[0], 3.0))
    axes = list(axes) if len(items) > 1 else [axes]
    color = style.PALETTE[0]
    for ax, it in zip(axes, items, strict=True):
        a, p, cl = it["actual"], it["projection"], it["claim"]
        ax.bar(0, a["value"] / divisor, 0.55, **c.bar_style(color, a["mark"]))
        ax.bar(1, p["base"] / divisor, 0.55, **c.bar_style(color, "projection"))
        top = max(p["high"] or p["base"], p["base"], cl["value"] if cl else 0) / divisor
        if p["low"] is not None and p["high"] is not None:
            # a driven base scenario may lie outside the low-high range: the whisker spans all three
            low, high = min(p["low"], p["base"], p["high"]), max(p["low"], p["base"], p["high"])
            ax.errorbar(
                1,
                p["base"] / divisor,
                yerr=[[(p["base"] - low) / divisor], [(high - p["base"]) / divisor]],
                fmt="none",
                ecolor=c.GREY,
                elinewidth=1,
                capsize=4,
                zorder=4,
            )
        ax.annotate(
            c.money_label(a["value"], lang, True, a["qualifier"]),
            (0, a["value"] / divisor),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=c.SMALL,
        )
        ax.text(
            1,
            p["base"] / divisor / 2,
            c.money_label(p["base"], lang, True),
            ha="center",
            va="center",
            fontsize=c.SMALL,
            color=color,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
        )
        if cl:
            ax.plot(
                [CLAIM_X],
                [cl["value"] / divisor],
                marker="D",
                markersize=6,
                markerfacecolor="white",
                markeredgecolor=c.DARK,
                markeredgewidth=1.3,
                linestyle="none",
                zorder=5,
            )
            c.label_right(
                ax,
                c.comparator(cl["comparator"], lang) + c.money_label(cl["value"], lang, True),
                (CLAIM_X, cl["value"] / divisor),
            )
        rate = c.number(p["rate"] * c.PERCENT, lang, "#,##0.0") + "%"
        ax.set_xticks([0, 1], [str(a["year"]), f"{p['year']}\n" + c.text(ID, "cagr", lang, rate=rate)])
        ax.tick_params(axis="x", length=0)
        ax.set_xlim(-0.55, 2.3)
        ax.set_ylim(0, top * 1.12)
        ax.set_title(it["name"][lang], fontsize=8.5)
        c.number_axis(ax, "y", lang)
    axes[0].set_ylabel(c.text(ID, "axis", lang))
    first = items[0]
    base_key = "legend.base_target" if first["projection"]["method"] == "target" else "legend.base"
    from matplotlib.lines import Line2D

    handles = [
        c.bar_patch(first["actual"]["mark"], c.text(ID, "legend.actual", lang, year=first["actual"]["year"]), color),
        c.bar_patch("projection", c.text(ID, base_key, lang, year=first["projection"]["year"]), color),
        Line2D([], [], color=c.GREY, marker="_", markersize=8, linewidth=1, label=c.text(ID, "legend.range", lang)),
        Line2D(
            [],
            [],
            linestyle="none",
            marker="D",
            markersize=6,
            markerfacecolor="white",
            markeredgecolor=c.DARK,
            markeredgewidth=1.3,
            label=c.text(ID, "legend.claim", lang),
        ),
    ]
    fig.tight_layout(w_pad=2.0)
    c.legend(fig, handles, loc="upper left", bbox_to_anchor=(0.0, 0.0), ncols=2)
    return style.save(fig, path)


FIGURE = chart(
    ID,
    __doc__,
    __file__,
    query,
    draw,
    subject="core_related_industry",
    seed_figure=12,
    datasets=("fig12_core_related_industry",),
    forecasts=("projections", "assumptions", "headlines"),
)
