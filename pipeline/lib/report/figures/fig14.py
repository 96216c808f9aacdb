"""Figure 14 (table): compute services in China, 2022, by provider type and provider: servers and racks, keeping
the published form of each number (ranges such as 200-300, 约100); providers without a public number show a dash."""

from __future__ import annotations

from typing import Any

import duckdb

from pipeline.lib.db import ident, table_name
from pipeline.lib.report.figures import _common as c
from pipeline.lib.report.figures.base import table

ID = "fig14"
SERIES = {"servers": "compute_service_servers", "racks": "compute_service_racks"}
SHEET = "fig14_compute_servers"  # the sheet whose row order and provider types the table follows
TYPE_COL, PROVIDER_COL = "算力提供方式", "算力提供方"


def query(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """One row per provider (source sheet order) with its type and each measure's value, bounds and text."""
    seg = c.names(con, "segment")
    by_name = {v["zh"]: k for k, v in seg.items()}
    columns, table = f"{ident(TYPE_COL)}, {ident(PROVIDER_COL)}", table_name("raw", SHEET)
    sheet = con.execute(f"SELECT {columns} FROM {table} ORDER BY _row").fetchall()  # noqa: S608 - identifiers only, quoted
    values = {m: {r["segment"]: r for r in c.observations(con, sid)} for m, sid in SERIES.items()}
    rows, ids = [], set()
    for type_zh, provider_zh in sheet:
        code = by_name.get(provider_zh)
        if code is None:
            raise KeyError(f"raw.{SHEET}: provider {provider_zh!r} has no segment label in core.labels")
        cells = {}
        for measure, obs in values.items():
            r = obs.get(code)
            cells[measure] = (
                None
                if r is None
                else {
                    "value": r["value"],
                    "low": r["value_low"],
                    "high": r["value_high"],
                    "unit": r["unit"],
                    "unit_orig": r["unit_orig"],
                    "value_text": r["value_text"],
                    "qualifier": r["qualifier"],
                    "year": r["year"],
                    "status": r["status"],
                    "mark": r["mark"],
                    "source_id": r["source_id"],
                }
            )
            if r is not None:
                ids.add(r["source_id"])
        rows.append(
            {"segment": code, "type": code.split(".", 1)[0], "type_zh_source": type_zh, "provider": seg[code], **cells}
        )
    shown = [r[m] for r in rows for m in SERIES if r[m]]
    return {
        "id": ID,
        "measures": list(SERIES),
        "rows": rows,
        "source_ids": sorted(ids),
        "flagged": any(v["mark"] for v in shown),
    }


def cell_text(v: dict[str, Any] | None, lang: str) -> str:
    """zh: the published text as is; en: the same form in thousands (ranges with an en dash, 约 → about)."""
    if v is None:
        return c.text(ID, "missing", lang)
    if lang == "zh":
        return v["value_text"]
    low, high = (x / c.THOUSAND for x in (v["low"], v["high"]))
    if low != high:
        return c.text(ID, "range", lang, low=c.number(low, lang), high=c.number(high, lang))
    return c.qualifier(v["qualifier"], lang) + c.number(v["value"] / c.THOUSAND, lang)


def rows(data: dict[str, Any], lang: str) -> dict[str, Any]:
    """Header + rows [provider type, provider, servers, racks]; the type is written once per group."""
    header = [c.text(ID, f"header.{k}", lang) for k in ("type", "provider", *data["measures"])]
    out, last = [], None
    for r in data["rows"]:
        type_text = c.text(ID, f"provider_type.{r['type']}", lang) if r["type"] != last else ""
        last = r["type"]
        out.append(
            [
                {"text": type_text, "num": False, "flag": False},
                {"text": r["provider"][lang], "num": False, "flag": False},
                *(
                    {"text": cell_text(r[m], lang), "num": True, "flag": bool(r[m] and r[m]["mark"])}
                    for m in data["measures"]
                ),
            ]
        )
    return {"header": header, "rows": out}


FIGURE = table(ID, __doc__, __file__, query, rows, seed_figure=14)
