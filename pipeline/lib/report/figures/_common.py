"""Helpers shared by the figure modules: the string catalogue, warehouse look-ups, marks, scales and labels.

Numbers come from the warehouse only; the constants here are unit definitions (powers of ten, percent).
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import templates_dir
from pipeline.lib import yamlio
from pipeline.lib.db import fetch_records
from pipeline.lib.ingest.manifest import NOT_ACTUAL_STATUSES
from pipeline.lib.report import fmt, style
from pipeline.lib.report.records import FigureData
from pipeline.lib.report.statuses import statuses

if TYPE_CHECKING:  # duckdb only for type hints: the PDF processes need not import it
    import duckdb

FLAG_STATUSES = ("approximate", "derived", "seed", "assumption", "estimate", "forecast")
_OBSERVATIONS = """
    SELECT series_id, geography, segment, year, value, value_low, value_high, unit, quantity, value_orig, unit_orig,
           currency_orig, value_text, qualifier, source_id, status, is_outlook, fx_rate, fx_year, fx_source_id,
           fx_basis
    FROM core.observations_latest
    WHERE series_id = $series
      AND ($geography::VARCHAR IS NULL OR geography = $geography)
      AND ($segment::VARCHAR IS NULL OR segment = $segment)
      AND ($outlook::BOOLEAN IS NULL OR is_outlook = $outlook)
    ORDER BY geography, segment, year"""
FORECAST_SOURCE = "forecast_assumptions"
CLAIMS_SOURCE = "forecast_claims"
AGGREGATES_SOURCE = "forecast_aggregates"
PERCENT = 100.0
THOUSAND, WAN, MILLION = 1e3, 1e4, 1e6
YI, WAN_YI, BN, TN = 1e8, 1e12, 1e9, 1e12  # money scales: zh 亿元 / 万亿元, en RMB bn / tn
GREY, DARK, LIGHT_BG = "#6E6E6E", "#333333", "#F1F1F1"
SMALL = 6.8  # font size of value labels (pt)
END_NAME_WIDTH = {"zh": 10, "en": 16}  # characters per line of a series name at the end of its line
LANGS = ("zh", "en")


# --- the string catalogue -------------------------------------------------------------------------------------


def catalogue_path() -> Path:
    """report_templates/i18n/figures.yaml."""
    return templates_dir() / "i18n" / "figures.yaml"


@functools.lru_cache(maxsize=4)
def _read(path: str, mtime_ns: int) -> dict[str, Any]:
    return yamlio.load(Path(path).read_text(encoding="utf-8"))


def catalogue() -> dict[str, Any]:
    """The whole figure catalogue {fig_id: {key: {zh, en}}} (re-read when the file changes)."""
    path = catalogue_path()
    return _read(str(path), path.stat().st_mtime_ns)


def entry(fig_id: str, key: str) -> dict[str, str]:
    """The {zh, en} leaf at a dotted key ('legend.actual'); KeyError naming it if absent."""
    node: Any = catalogue()[fig_id]
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"{catalogue_path().name}: no key {fig_id}.{key}")
        node = node[part]
    return node


def text(fig_id: str, key: str, lang: str, **values: Any) -> str:
    """One string of the catalogue in `lang`, formatted with `values`."""
    s = entry(fig_id, key)[lang]
    return s.format(**values) if values else s


def shared(key: str, lang: str, **values: Any) -> str:
    """A word of the `_shared` section."""
    return text("_shared", key, lang, **values)


# --- warehouse look-ups ----------------------------------------------------------------------------------------


def clean(value: Any) -> Any:
    """JSON-safe copy: NaN → None, tuples → lists (so data survives a JSON round trip unchanged)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def names(con: duckdb.DuckDBPyConnection, dimension: str) -> dict[str, dict[str, str]]:
    """{code: {zh, en}} of a label dimension ('geography', 'segment') or of the series ('series')."""
    if dimension == "series":
        rows = con.execute("SELECT series_id, name_zh, name_en FROM core.series").fetchall()
    else:
        rows = con.execute("SELECT code, name_zh, name_en FROM core.labels WHERE dimension = ?", [dimension]).fetchall()
    return {code: {"zh": zh, "en": en} for code, zh, en in rows}


def name(con: duckdb.DuckDBPyConnection, dimension: str, code: str) -> dict[str, str]:
    """{zh, en} of one code; KeyError naming it if the catalogue lacks it."""
    got = names(con, dimension)
    if code not in got:
        raise KeyError(f"no {dimension} label for {code!r} in core.{'series' if dimension == 'series' else 'labels'}")
    return got[code]


def mark_of(row: dict[str, Any]) -> str | None:
    """How a value must be marked: 'estimate'/'forecast' where its table marks the year so (2022E), 'outlook' (a
    published forecast), its status if not solid, else None."""
    if row.get("status") in NOT_ACTUAL_STATUSES:
        return row["status"]
    if row.get("is_outlook"):
        return "outlook"
    return row["status"] if row.get("status") in FLAG_STATUSES else None


def observations(
    con: duckdb.DuckDBPyConnection,
    series_id: str,
    *,
    geography: str | None = None,
    segment: str | None = None,
    outlook: bool | None = None,
) -> list[dict[str, Any]]:
    """Rows of core.observations_latest (canonical units) with a `mark` key, ordered by geography, segment, year;
    a filter left None is not applied."""
    params = {"series": series_id, "geography": geography, "segment": segment, "outlook": outlook}
    rows = [clean(r) for r in fetch_records(con, _OBSERVATIONS, params)]
    for r in rows:
        r["mark"] = mark_of(r)
    return rows


def projection_series(
    con: duckdb.DuckDBPyConnection,
    series_id: str,
    geography: str = "CN",
    segment: str = "total",
    *,
    actuals: bool = True,
    outlook: bool = True,
    scenarios: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """History (actuals), scenario projections (forecast.projections) and published outlook values of a series;
    `scenarios` None reads every scenario, () none (forecast tables untouched), as `actuals`/`outlook` False skip
    those rows."""
    history = observations(con, series_id, geography=geography, segment=segment, outlook=False) if actuals else []
    for h in history:  # an amount converted from a foreign currency by this project is marked as such
        if h["currency_orig"] not in (None, "CNY") and h["mark"] is None:
            h["mark"] = "converted"
    published = observations(con, series_id, geography=geography, segment=segment, outlook=True) if outlook else []
    projected: dict[str, dict[str, Any]] = {}
    rows = (
        []
        if scenarios == ()
        else con.execute(
            """
            SELECT p.scenario, p.year, p.value, p.method, p.base_year, p.base_value, p.rate, a.rationale_zh,
                   a.rationale_en
            FROM forecast.projections p JOIN forecast.assumptions a USING (assumption_id)
            WHERE p.series_id = ? AND p.geography = ? AND p.segment = ? ORDER BY p.scenario, p.year""",
            [series_id, geography, segment],
        ).fetchall()
    )
    for sc, year, value, method, base_year, base_value, rate, r_zh, r_en in rows:
        if scenarios is not None and sc not in scenarios:
            continue
        s = projected.setdefault(
            sc,
            {
                "method": method,
                "rate": rate,
                "base_year": base_year,
                "base_value": base_value,
                "rationale": {"zh": r_zh, "en": r_en},
                "points": [],
            },
        )
        s["points"].append({"year": year, "value": value})
    unit, quantity = con.execute(
        "SELECT any_value(unit), any_value(quantity) FROM core.observations_latest WHERE series_id = ?", [series_id]
    ).fetchone()
    return clean(
        {
            "series_id": series_id,
            "geography": geography,
            "segment": segment,
            "name": name(con, "series", series_id),
            "unit": unit,
            "quantity": quantity,
            "history": history,
            "scenarios": projected,
            "outlook": published,
        }
    )


def projection_sources(series: list[dict[str, Any]]) -> list[str]:
    """Source ids of everything a projection chart shows."""
    ids = {r["source_id"] for s in series for r in s["history"] + s["outlook"]}
    ids |= {r["fx_source_id"] for s in series for r in s["history"] if r.get("fx_source_id")}
    if any(s["scenarios"] for s in series):
        ids.add(FORECAST_SOURCE)
    return sorted(ids)


def headlines(con: duckdb.DuckDBPyConnection, target: str) -> list[dict[str, Any]]:
    """Rows of forecast.headlines for one target (a series or an aggregate), by year."""
    rows = fetch_records(con, "SELECT * FROM forecast.headlines WHERE target = ? ORDER BY year", [target])
    return [clean(r) for r in rows]


# --- what the data is ------------------------------------------------------------------------------------------


def assumption_label(data: FigureData, lang: str) -> str | None:
    """The label a chart of analyst-assumed values carries on itself ('分析师假设' when every value is one, '含分析师
    假设' when some are), from the statuses in its data; None when none is."""
    found = statuses(data.body)
    assumed = found.count("assumption")
    if not assumed:
        return None
    return shared("stamp.assumption" if assumed == len(found) else "stamp.some_assumptions", lang)


# --- formatting ------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def number(value: float, lang: str, pattern: str | None = None) -> str:
    """A number in the edition's locale with the default precision rule (cached: Babel is slow per call)."""
    return fmt.number(value, lang, pattern or fmt.precision_pattern(value))


def qualifier(q: str | None, lang: str) -> str:
    """Prefix for a published qualifier (约 / 超 / > / ≥ ...) in the edition's language."""
    if not q:
        return ""
    table = catalogue()["_shared"]["qualifier"]
    return table[q][lang] if q in table else q


def comparator(c: str, lang: str) -> str:
    """Prefix for a claim's comparator (>= / ≈ ...)."""
    table = catalogue()["_shared"]["comparator"]
    return table[c][lang] if c in table else c


def money_scale(lang: str, large: bool) -> float:
    """Divisor of money axes: zh 亿 / 万亿, en bn / tn."""
    if lang == "zh":
        return WAN_YI if large else YI
    return TN if large else BN


def money_unit(lang: str, large: bool) -> tuple[float, str]:
    """(divisor, unit word) of money axes: zh 亿元/万亿元, en RMB bn/tn (fmt's unit words)."""
    divisor = money_scale(lang, large)
    return divisor, fmt.money_parts(divisor, lang, "CNY", divisor)[1]


def money_label(value: float, lang: str, large: bool, q: str | None = None) -> str:
    """'约3,229亿元' / 'about RMB 322.9 bn' at a fixed scale (fmt.money)."""
    return qualifier(q, lang) + fmt.money(value, lang, "CNY", money_scale(lang, large))


def quantity_label(value: float, unit: str, lang: str, q: str | None = None) -> str:
    """fmt.quantity with the published qualifier in front: '约3,800亿千瓦时', '≥ 23 million'."""
    return qualifier(q, lang) + fmt.quantity(value, unit, lang)


def unit_label(value: float, divisor: float, unit: str, lang: str, q: str | None = None) -> str:
    """A scaled quantity with its unit: '3,800亿千瓦时' / 'about 380 bn kWh'."""
    sep = "" if lang == "zh" else " "
    return f"{qualifier(q, lang)}{number(value / divisor, lang)}{sep}{unit}"


# --- drawing ---------------------------------------------------------------------------------------------------


def lighter(color: str, keep: float = 0.35) -> str:
    """`color` blended with white (keep = share of the colour)."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return "#{:02X}{:02X}{:02X}".format(*(round(255 - (255 - c) * keep) for c in (r, g, b)))


def bar_style(color: str, mark: str | None) -> dict[str, Any]:
    """Bar keywords: solid fill for reported values, hatched for approximate/derived/seed/assumption,
    hollow with a dashed outline for projections and published forecasts."""
    if mark is None:
        return {"facecolor": color, "edgecolor": color, "linewidth": 0.6}
    if mark in ("outlook", "projection"):
        return {"facecolor": "white", "edgecolor": color, "linestyle": (0, (3, 1.5)), "linewidth": 1.0}
    return {"facecolor": lighter(color), "edgecolor": color, "hatch": style.APPROX_HATCH, "linewidth": 0.6}


def bar_patch(mark: str | None, label: str, color: str = GREY) -> Any:
    """Legend handle drawn like `bar_style`."""
    from matplotlib.patches import Patch

    return Patch(label=label, **bar_style(color, mark))


def point_style(color: str, mark: str | None) -> dict[str, Any]:
    """Marker keywords: filled for reported values, hollow for approximate/derived/converted ones."""
    if mark is None:
        return {"marker": "o", "markersize": 4.5, "markerfacecolor": color, "markeredgecolor": color}
    return {
        "marker": "o",
        "markersize": 5,
        "markerfacecolor": "white",
        "markeredgecolor": color,
        "markeredgewidth": 1.3,
    }


def bubble_handle(ax: Any, label: str, mark: str | None, color: str = GREY) -> Any:
    """Legend handle for a (hatched if marked) bubble: an empty scatter drawn like the bubbles."""
    return ax.scatter(
        [],
        [],
        s=90,
        facecolor=lighter(color, 0.3),
        edgecolor=color,
        linewidth=0.8,
        hatch=style.APPROX_HATCH if mark else None,
        label=label,
    )


def line_handle(label: str, color: str = GREY, **kw: Any) -> Any:
    """A Line2D legend handle."""
    from matplotlib.lines import Line2D

    return Line2D([], [], color=color, label=label, **kw)


def legend_marks(lang: str, marks: set[str | None], *, kind: str = "bar", color: str = GREY) -> list[Any]:
    """Legend handles explaining the marks used (approximate/derived/seed/assumption/estimate/forecast/converted)."""
    handles = []
    for mark in ("approximate", "derived", "seed", "assumption", "estimate", "forecast", "converted"):
        if mark in marks:
            label = shared(f"legend.{mark}", lang)
            if kind == "bar":
                handles.append(bar_patch(mark, label, color))
            else:
                handles.append(line_handle(label, color, linestyle="none", **point_style(color, mark)))
    return handles


def number_axis(
    ax: Any, which: str, lang: str, pattern: str | None = None, scale: float = 1.0, suffix: str = ""
) -> None:
    """Tick labels in the edition's locale (value / scale, then `suffix`)."""
    from matplotlib.ticker import FuncFormatter

    formatter = FuncFormatter(lambda v, _pos: number(v / scale, lang, pattern) + suffix)
    (ax.xaxis if which == "x" else ax.yaxis).set_major_formatter(formatter)


def spread(values: list[float], gap: float) -> list[float]:
    """Move sorted-by-value label positions apart to at least `gap` (keeps their order, centred on the data)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = list(values)
    for _ in range(50):
        moved = False
        for a, b in zip(order, order[1:], strict=False):
            if out[b] - out[a] < gap - 1e-12:
                push = (gap - (out[b] - out[a])) / 2
                out[a] -= push
                out[b] += push
                moved = True
        if not moved:
            break
    return out


def wrap(label: str, lang: str, width: int) -> str:
    """Break a long label into lines: zh by characters, en by words."""
    import textwrap

    if lang == "zh":  # break after the last enumeration comma that fits, else after `width` characters
        lines = []
        while len(label) > width:
            cut = max(label.rfind(mark, 0, width) for mark in "、，（") + 1 or width
            cut = cut - 1 if label[cut - 1] == "（" else cut
            lines.append(label[:cut])
            label = label[cut:]
        return "\n".join([*lines, label])
    return "\n".join(textwrap.wrap(label, width)) or label


def legend(target: Any, handles: list[Any], **kw: Any) -> Any:
    """House legend: no frame, small type."""
    opts = {"frameon": False, "fontsize": 7.2, "handlelength": 1.8, "borderaxespad": 0.3}
    return target.legend(handles=handles, **(opts | kw))


def label_right(ax: Any, text: str, xy: tuple[float, float], **kw: Any) -> Any:
    """A small dark label just right of the point `xy`, centred on it."""
    opts = {"xytext": (6, 0), "textcoords": "offset points", "ha": "left", "va": "center", "fontsize": SMALL}
    return ax.annotate(text, xy, **(opts | {"color": DARK} | kw))


def end_names(ax: Any, ends: list[tuple[dict[str, Any] | None, dict[str, Any]]], lang: str, divisor: float) -> None:
    """The series' names right of their last points ((last point or None, series) pairs)."""
    for last, s in ends:
        if last is None:
            continue
        label_right(ax, s["name"][lang], (last["year"], last["value"] / divisor), annotation_clip=False)


def year_axis(ax: Any, years: list[int]) -> None:
    """One tick per year, plain year numbers."""
    ax.set_xticks(years, [str(y) for y in years])


def draw_projections(
    ax: Any,
    series: list[dict[str, Any]],
    lang: str,
    divisor: float,
    value_label: Any,
    colors: list[str] | None = None,
    markers: tuple[str, ...] | None = None,
    named: bool = False,
) -> list[Any]:
    """History (filled or hollow markers), base projection (dashed), low–high band and published outlook values
    (diamonds) of some series on one axis; returns the legend handles. `value_label(value, q)` formats a label;
    `markers` gives each series its own marker shape (told apart without colour); `named`: the end label of each
    base projection names its series above its value."""
    colors = colors or list(style.PALETTE)
    years: set[int] = set()
    base_years: list[int] = []
    first_projected: list[int] = []
    projected: set[str] = set()
    banded: set[str] = set()
    marks: set[str | None] = set()
    ends: list[tuple[float, float, str, str]] = []
    outlooks: list[tuple[float, float, str]] = []
    top = 0.0
    for i, s in enumerate(series):
        c = colors[i % len(colors)]
        hx = [h["year"] for h in s["history"]]
        hy = [h["value"] / divisor for h in s["history"]]
        years |= set(hx)
        top = max([top, *hy])
        for (x0, y0), (x1, y1) in zip(zip(hx, hy, strict=True), zip(hx[1:], hy[1:], strict=True), strict=False):
            gap = x1 - x0 > 1  # a year without a published value: thin dotted connector
            ax.plot([x0, x1], [y0, y1], color=c, linewidth=0.9 if gap else 1.6, linestyle=":" if gap else "-", zorder=3)
        for x, y, h in zip(hx, hy, s["history"], strict=True):
            marks.add(h["mark"])
            shape = {"marker": markers[i % len(markers)]} if markers else {}
            ax.plot([x], [y], linestyle="none", zorder=4, **(point_style(c, h["mark"]) | shape))
        base = s["scenarios"].get("base")
        low, high = s["scenarios"].get("low"), s["scenarios"].get("high")
        ref = base or (low if low and high else None)  # without a base scenario the low-high band still shows
        if ref:
            projected.add(s["series_id"])
            start = ([ref["base_year"]], [ref["base_value"] / divisor])
            bx = start[0] + [p["year"] for p in ref["points"]]
            years |= set(bx)
        if base:
            base_years.append(base["base_year"])
            by = start[1] + [p["value"] / divisor for p in base["points"]]
            top = max([top, *by])
            ax.plot(bx, by, color=c, linewidth=1.4, linestyle=(0, (4, 2)), zorder=3)
            ax.plot(bx[-1:], by[-1:], marker="o", markersize=3.5, color=c, zorder=4)
            ends.append((bx[-1], by[-1] * divisor, c, s["name"][lang]))
        if ref and low and high and len(low["points"]) == len(high["points"]) == len(ref["points"]):
            ly = start[1] + [p["value"] / divisor for p in low["points"]]
            hy2 = start[1] + [p["value"] / divisor for p in high["points"]]
            top = max([top, *hy2])
            ax.fill_between(bx, ly, hy2, color=c, alpha=0.14, linewidth=0, zorder=2)
            banded.add(s["series_id"])
            first_projected.append(ref["base_year"])
        for o in s["outlook"]:
            years.add(o["year"])
            top = max(top, o["value"] / divisor)
            ax.plot(
                [o["year"]],
                [o["value"] / divisor],
                marker="D",
                markersize=5.5,
                markerfacecolor="white",
                markeredgecolor=DARK,
                markeredgewidth=1.2,
                linestyle="none",
                zorder=5,
            )
            outlooks.append((o["year"], o["value"], o["qualifier"]))
    ax.set_ylim(0, top * 1.12)
    ax.set_xlim(min(years) - 0.5, max(years) + 0.5)
    year_axis(ax, sorted(range(min(years), max(years) + 1)))
    number_axis(ax, "y", lang)
    if base_years or first_projected:
        start = min(base_years or first_projected)
        ax.axvspan(start + 0.02, max(years) + 0.5, color=LIGHT_BG, zorder=0, linewidth=0)
        ax.text(
            max(years) + 0.45,
            top * 1.11,
            shared("legend.forecast_years", lang),
            va="top",
            ha="right",
            fontsize=SMALL,
            color=GREY,
        )
    # end labels of the base projection, spread apart; outlook labels left of their diamonds
    gap = top * 1.12 * (0.15 if named else 0.075)
    ys = spread([e[1] / divisor for e in ends], gap)
    points_per_unit = ax.bbox.height * 72 / ax.figure.dpi / (top * 1.12)
    for (x, v, c, name), y in zip(ends, ys, strict=True):
        shown = value_label(v, None)
        ax.annotate(
            f"{wrap(name, lang, END_NAME_WIDTH[lang])}\n{shown}" if named else shown,
            (x, v / divisor),
            xytext=(6, (y - v / divisor) * points_per_unit),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=SMALL,
            color=c,
            annotation_clip=False,
        )
    for x, v, q in outlooks:
        ax.annotate(
            value_label(v, q),
            (x, v / divisor),
            xytext=(-6, 3),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=SMALL,
            color=DARK,
        )
    single = len(series) == 1
    if single and series[0]["history"]:  # one series: its latest actual gets a label too
        last = series[0]["history"][-1]
        ax.annotate(
            value_label(last["value"], last["qualifier"]),
            (last["year"], last["value"] / divisor),
            xytext=(4, -5),
            textcoords="offset points",
            ha="left",
            va="top",
            fontsize=SMALL,
            color=colors[0],
        )
    handle_color = colors[0] if single else GREY
    handles = (
        []
        if single
        else [
            line_handle(
                s["name"][lang],
                colors[i % len(colors)],
                linewidth=2,
                **({"marker": markers[i % len(markers)]} if markers else {}),
            )
            for i, s in enumerate(series)
        ]
    )
    handles.append(
        line_handle(shared("legend.actual", lang), handle_color, linewidth=1.6, **point_style(handle_color, None))
    )
    handles += legend_marks(lang, marks, kind="point", color=handle_color)
    if base_years:
        handles.append(line_handle(shared("legend.base", lang), handle_color, linewidth=1.4, linestyle=(0, (4, 2))))
    if banded:
        from matplotlib.patches import Patch

        handles.append(Patch(color=handle_color, alpha=0.14, linewidth=0, label=shared("legend.band", lang)))
    if outlooks:
        handles.append(
            line_handle(
                shared("legend.outlook", lang),
                DARK,
                linestyle="none",
                marker="D",
                markersize=5.5,
                markerfacecolor="white",
                markeredgewidth=1.2,
            )
        )
    return handles
