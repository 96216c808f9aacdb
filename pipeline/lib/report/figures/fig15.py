"""Figure 15 (table): the evaluation framework: dimension (普 / 慧), first-level and second-level indicators."""

from __future__ import annotations

from typing import Any

import duckdb

from pipeline.lib.db import fetch_records, table_name
from pipeline.lib.report.figures import _common as c
from pipeline.lib.report.figures.base import table

ID = "fig15"
SOURCE = "fig15_evaluation_framework"


def query(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The indicators in the source's order, bilingual."""
    rows = fetch_records(
        con,
        'SELECT "order", indicator_code, dimension_code, dimension_zh, dimension_en, level1_code, level1_zh, '  # noqa: S608 - the table name is the only part spliced in, quoted by table_name
        f"level1_en, level2_zh, level2_en FROM {table_name('raw', SOURCE)} ORDER BY _row",
    )
    items = []
    for d in rows:
        items.append(
            {
                "order": int(d["order"]),
                "code": d["indicator_code"],
                "dimension_code": d["dimension_code"],
                "dimension": {"zh": d["dimension_zh"], "en": d["dimension_en"]},
                "level1_code": d["level1_code"],
                "level1": {"zh": d["level1_zh"], "en": d["level1_en"]},
                "level2": {"zh": d["level2_zh"], "en": d["level2_en"]},
            }
        )
    status = con.execute("SELECT status FROM core.sources WHERE source_id = ?", [SOURCE]).fetchone()[0]
    return c.clean(
        {"id": ID, "items": items, "status": status, "source_ids": [SOURCE], "flagged": status in c.FLAG_STATUSES}
    )


def rows(data: dict[str, Any], lang: str) -> dict[str, Any]:
    """Header + rows [dimension, first-level, second-level]; a repeated group name is written only once. Set in
    the small table type: a dense list of indicator names."""
    header = [c.text(ID, f"header.{k}", lang) for k in ("dimension", "level1", "level2")]
    out, last = [], (None, None)
    for it in data["items"]:
        dim = it["dimension"][lang] if it["dimension_code"] != last[0] else ""
        lvl = it["level1"][lang] if (it["dimension_code"], it["level1_code"]) != last else ""
        last = (it["dimension_code"], it["level1_code"])
        out.append(
            [
                {"text": dim, "num": False, "flag": False},
                {"text": lvl, "num": False, "flag": False},
                {"text": it["level2"][lang], "num": False, "flag": False},
            ]
        )
    return {"header": header, "rows": out, "class": "small"}


FIGURE = table(ID, __doc__, __file__, query, rows, seed_figure=15)
