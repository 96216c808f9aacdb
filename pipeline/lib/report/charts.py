"""Chart functions: data in, PNG out. One function per figure; labels come from the context, never typed."""

from __future__ import annotations

from pathlib import Path

from pipeline.lib.report import fmt, style
from pipeline.lib.report.queries import Fact


def market_sizes(facts: list[Fact], names: dict[str, str], lang: str, title: str, path: Path) -> Path:
    """Figure 11: grouped bars of market sizes by year (亿元 / RMB bn), approximate or derived values hatched."""
    plt = style.setup()
    series = sorted({f.series_id for f in facts})
    years = sorted({f.year for f in facts})
    scale = 1e8 if lang == "zh" else 1e9
    fig, ax = plt.subplots(figsize=style.FIGSIZE)
    width = 0.8 / len(series)
    for i, sid in enumerate(series):
        points = {f.year: f for f in facts if f.series_id == sid}
        xs = [years.index(y) + (i - (len(series) - 1) / 2) * width for y in points]
        bars = ax.bar(xs, [p.value / scale for p in points.values()], width, label=names[sid],
                      color=style.PALETTE[i % len(style.PALETTE)])
        for bar, p in zip(bars, points.values(), strict=True):
            if p.status != "solid":
                bar.set_hatch(style.APPROX_HATCH)
                bar.set_edgecolor("white")
            ax.annotate(fmt.number(p.value / scale, lang, "#,##0"), (bar.get_x() + bar.get_width() / 2,
                        bar.get_height()), ha="center", va="bottom", fontsize=6.5, xytext=(0, 1.5),
                        textcoords="offset points")
    ax.set_xticks(range(len(years)), [str(y) for y in years])
    ax.set_ylabel("亿元" if lang == "zh" else "RMB bn")
    ax.set_title(title, loc="left")
    ax.legend(frameon=False, ncols=len(series), loc="upper left")
    return style.save(fig, path)
