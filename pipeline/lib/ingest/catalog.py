"""Load the series and label catalogues into the warehouse and build the alias lookup used by ingestion."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import duckdb
from pydantic import Field

from pipeline.lib.db import transaction
from pipeline.lib.errors import Problem, SourceError
from pipeline.lib.ingest.inputs import file_sha256
from pipeline.lib.ingest.manifest import LABELS_FILE, SERIES_FILE
from pipeline.lib.validation import InputModel, header_problems, validate

QUANTITIES = (
    "money",
    "compute",
    "operations",
    "count",
    "duration",
    "share",
    "growth",
    "energy",
    "carbon",
    "ratio",
    "training",
    "chip",
    "other",
)
DIMENSIONS = ("geography", "segment")
Name = Annotated[str, Field(min_length=1)]
Row = TypeVar("Row", bound=InputModel)


class SeriesRow(InputModel):
    """One row of sources/series.csv: a series the tables may name, and what kind of quantity it is."""

    series_id: Name = Field(description="the series id the tables and the report use", examples=["cloud_market"])
    name_zh: Name = Field(description="the series' name in Chinese")
    name_en: Name = Field(description="the series' name in English")
    quantity: Literal[QUANTITIES] = Field(description="what kind of quantity: which units fit it", examples=["money"])
    description_zh: str = Field(description="what the series measures, in Chinese")
    description_en: str = Field(description="what the series measures, in English")
    aliases: str = Field(description="other names a table may use for it, separated by `|`")


class LabelRow(InputModel):
    """One row of sources/labels.csv: a geography or segment code, its names and aliases."""

    dimension: Literal[DIMENSIONS] = Field(description="which dimension the code belongs to", examples=["geography"])
    code: Name = Field(description="the code the warehouse uses", examples=["CN"])
    name_zh: Name = Field(description="the name in Chinese")
    name_en: Name = Field(description="the name in English")
    aliases: str = Field(description="other names a table may use for it, separated by `|`")


SERIES_COLUMNS = tuple(SeriesRow.model_fields)
LABEL_COLUMNS = tuple(LabelRow.model_fields)


def read_catalog(sources_dir: Path, name: str, model: type[Row]) -> tuple[list[tuple[int, Row]], list[Problem]]:
    """The rows of a UTF-8 CSV catalogue (series.csv, labels.csv) as `model` records with the line each starts on,
    and the problems of the rows that are not."""
    path = sources_dir / name
    where = f"sources/{name}"
    if not path.is_file():
        raise SourceError(Problem(where, "catalogue file not found"))
    rows: list[tuple[int, Row]] = []
    problems: list[Problem] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if header := header_problems(model, reader.fieldnames or [], where):
            raise SourceError(header)
        line = reader.line_num + 1
        for raw in reader:
            if None in raw:
                problems.append(Problem(where, f"{len(raw[None])} cell(s) past the last column of the header", line))
            values = {k: (v or "").strip() for k, v in raw.items() if k is not None}
            record, bad = validate(model, values, where, line, noun="column")
            problems += bad
            if record is not None:
                rows.append((line, record))
            line = reader.line_num + 1
    return rows, problems


def _duplicates(series: list[tuple[int, SeriesRow]], labels: list[tuple[int, LabelRow]]) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for line, row in series:
        if row.series_id in seen:
            problems.append(
                Problem(f"sources/{SERIES_FILE}", f"duplicate series_id {row.series_id!r}", line, "series_id")
            )
        seen.add(row.series_id)
    codes: set[tuple[str, str]] = set()
    for line, label in labels:
        if (label.dimension, label.code) in codes:
            problems.append(Problem(f"sources/{LABELS_FILE}", f"duplicate code {label.code!r}", line, "code"))
        codes.add((label.dimension, label.code))
    return problems


def load_catalogs(con: duckdb.DuckDBPyConnection, sources_dir: Path) -> tuple[int, int]:
    """Validate series.csv and labels.csv and swap them into raw.series_catalog / raw.labels atomically."""
    series, problems = read_catalog(sources_dir, SERIES_FILE, SeriesRow)
    labels, label_problems = read_catalog(sources_dir, LABELS_FILE, LabelRow)
    problems += label_problems + _duplicates(series, labels)
    if problems:
        raise SourceError(problems)
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    with transaction(con):
        con.execute(
            "CREATE OR REPLACE TABLE raw.series_catalog (series_id VARCHAR PRIMARY KEY, name_zh VARCHAR, "
            "name_en VARCHAR, quantity VARCHAR, description_zh VARCHAR, description_en VARCHAR, "
            "aliases VARCHAR)"
        )
        con.executemany(
            "INSERT INTO raw.series_catalog VALUES (?, ?, ?, ?, ?, ?, ?)",
            [[getattr(r, c) for c in SERIES_COLUMNS] for _, r in series],
        )
        con.execute(
            "CREATE OR REPLACE TABLE raw.labels (dimension VARCHAR, code VARCHAR, name_zh VARCHAR, "
            "name_en VARCHAR, aliases VARCHAR, PRIMARY KEY (dimension, code))"
        )
        con.executemany(
            "INSERT INTO raw.labels VALUES (?, ?, ?, ?, ?)", [[getattr(r, c) for c in LABEL_COLUMNS] for _, r in labels]
        )
        con.execute("CREATE OR REPLACE TABLE raw.catalog_files (file VARCHAR, sha256 VARCHAR)")
        con.executemany(
            "INSERT INTO raw.catalog_files VALUES (?, ?)",
            [[name, file_sha256(sources_dir / name)] for name in (SERIES_FILE, LABELS_FILE)],
        )
    return len(series), len(labels)


def build_alias_table(con: duckdb.DuckDBPyConnection) -> None:
    """TEMP table _aliases(dimension, alias, code): every code, name and alias, lower-cased, → its code."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _aliases AS
        SELECT DISTINCT dimension, lower(trim(alias)) AS alias, code FROM (
            SELECT 'series' AS dimension, series_id AS code,
                   unnest(list_concat([series_id, name_zh, name_en], string_split(coalesce(aliases, ''), '|')))
                   AS alias
            FROM raw.series_catalog
            UNION ALL
            SELECT dimension, code, unnest(list_concat([code, name_zh, name_en],
                                                       string_split(coalesce(aliases, ''), '|'))) AS alias
            FROM raw.labels)
        WHERE trim(alias) <> ''""")
    clashes = con.execute(
        "SELECT dimension, alias, list(code) FROM _aliases GROUP BY ALL HAVING count(DISTINCT code) > 1 LIMIT 5"
    ).fetchall()
    if clashes:
        raise SourceError(
            [Problem("sources/labels.csv", f"{d} alias {a!r} points at several codes {c}") for d, a, c in clashes]
        )
