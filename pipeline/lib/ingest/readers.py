"""Read one source file (CSV in UTF-8 or a declared legacy encoding, or XLSX) into a DuckDB table as received.

The table gets every column as text, plus `_row` (the row number in the file, header = row 1).
CSV goes through DuckDB's own reader (large files never pass through pandas); XLSX through openpyxl,
because DuckDB's excel extension would have to be downloaded at run time.
"""

from __future__ import annotations

import codecs
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.lib.db import Params, ident
from pipeline.lib.errors import Problem, SourceError
from pipeline.lib.ingest.inputs import file_sha256

CHUNK = 1 << 20


@dataclass(frozen=True)
class FileFacts:
    """What we know about a file before parsing it."""

    sha256: str
    size: int


def _is_utf8(encoding: str) -> bool:
    return encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig")


def _reads_as_text(data: bytes, encoding: str) -> bool:
    """Whether `data` decodes strictly in `encoding` into text (no NUL, hardly any control characters)."""
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n")
    return "\x00" not in text and controls <= len(text) // 100


def _encoding_hint(data: bytes, encoding: str) -> str:
    """What the bytes really are, as far as they tell: a hint names an encoding only if the file decodes in it."""
    bom = data.startswith(codecs.BOM_UTF8)
    body = data[len(codecs.BOM_UTF8) :] if bom else data
    if bom and not _reads_as_text(body, "utf-8") and _reads_as_text(body, "gb18030"):
        return (
            "it starts with a UTF-8 byte-order mark but the rest is GBK/GB18030 text (two encodings in one "
            "file): re-save it as UTF-8"
        )
    if _is_utf8(encoding):
        if _reads_as_text(body, "gb18030"):
            return "it reads as GBK/GB18030 text: re-save it as UTF-8, or declare `encoding: gbk` in its manifest entry"
    elif _reads_as_text(body, "utf-8"):
        return f"it reads as UTF-8 text: remove `encoding: {encoding}` from its manifest entry"
    return (
        "it is neither UTF-8 nor GBK/GB18030 text; is it really a CSV table? (accepted: CSV in UTF-8 or a "
        "declared encoding, or .xlsx)"
    )


def _decode_error_problem(path: Path, label: str, data_before: bytes, bad_line: bytes, encoding: str) -> Problem:
    row = data_before.count(b"\n") + 1
    col_index = bad_line.count(b",") + 1
    hint = _encoding_hint(path.read_bytes(), encoding)
    return Problem(
        label, f"file is not valid {encoding} text (undecodable bytes); {hint}", row=row, column=f"#{col_index}"
    )


def inspect_file(path: Path, label: str, encoding: str) -> FileFacts:
    """Hash the file and check, streaming, that it decodes in its declared encoding. The hash runs in a second
    thread (hashlib releases the GIL), beside the decoding check."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        sha256 = pool.submit(file_sha256, path)
        size = _check_decodes(path, label, encoding)
        digest = sha256.result()
    if size == 0:
        raise SourceError(Problem(label, "file is empty (0 bytes); expected a header row and data rows", row=1))
    return FileFacts(digest, size)


def _check_decodes(path: Path, label: str, encoding: str) -> int:
    """The file's size; raise SourceError naming row and column if a CSV does not decode in `encoding`."""
    decoder = codecs.getincrementaldecoder(encoding)() if path.suffix.lower() == ".csv" else None
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            if decoder is not None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    whole = path.read_bytes()
                    pos = size + exc.start
                    line_start = whole.rfind(b"\n", 0, pos) + 1
                    raise SourceError(
                        _decode_error_problem(path, label, whole[:pos], whole[line_start:pos], encoding)
                    ) from exc
            size += len(chunk)
    if decoder is not None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise SourceError(Problem(label, f"file ends inside a multi-byte character ({encoding})")) from exc
    return size


TITLE_SCAN_ROWS = 20


def header_offset(rows: list[list[object]]) -> int:
    """How many title rows sit above the header: a release often opens with `表1 中国云计算市场规模` or a unit
    line alone in its first cell. The header is the first row with two or more filled cells, if every row before
    it has at most one (otherwise the first row is the header, as before)."""
    filled = [sum(1 for v in row if v not in (None, "") and str(v).strip()) for row in rows[:TITLE_SCAN_ROWS]]
    first = next((i for i, n in enumerate(filled) if n >= 2), 0)
    return first if all(n <= 1 for n in filled[:first]) else 0


def _csv_head(path: Path, encoding: str) -> list[list[str]]:
    import csv
    import itertools

    with path.open(encoding=encoding, newline="") as fh:
        return list(itertools.islice(csv.reader(fh), TITLE_SCAN_ROWS))


Constant = tuple[str, object, str]  # a column added to every row: name, value, SQL type


def _constants_sql(constants: Sequence[Constant]) -> tuple[str, dict[str, object]]:
    """The select-list tail that adds `constants` (`, $c0::TYPE AS "name"` …) and its parameters."""
    p = Params("c")
    sql = "".join(f", {p(value)}::{sql_type} AS {ident(name)}" for name, value, sql_type in constants)
    return sql, p.values


def load_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    label: str,
    table: str,
    encoding: str,
    constants: Sequence[Constant] = (),
) -> list[str]:
    """CREATE OR REPLACE `table` from a CSV, all columns VARCHAR, failing on any malformed row."""
    source = path
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if not _is_utf8(encoding):
        tmp = tempfile.TemporaryDirectory(prefix="transcode-")
        source = Path(tmp.name) / "utf8.csv"
        source.write_text(path.read_text(encoding=encoding), encoding="utf-8")
    head = _csv_head(source, "utf-8-sig")
    skip = header_offset(head)
    extra, params = _constants_sql(constants)
    try:
        # `_row` is filled in afterwards from the table's row ids: numbering the rows with a window function
        # here would make DuckDB read the file on a single thread (about twice as slow).
        con.execute(
            f"CREATE OR REPLACE TABLE {table} AS SELECT NULL::INTEGER AS _row, *{extra} "
            "FROM read_csv($source, all_varchar=true, header=true, delim=',', quote='\"', escape='\"', "
            "store_rejects=true, ignore_errors=true, rejects_table='_csv_rejects', rejects_scan='_csv_scans', "
            "sample_size=-1, skip=$skip)",
            {"source": str(source), "skip": skip, **params},
        )
        rejects = con.execute(
            "SELECT line, column_name, error_type, error_message FROM _csv_rejects ORDER BY line LIMIT 20"
        ).fetchall()
    except duckdb.Error as exc:
        raise SourceError(Problem(label, f"not a readable CSV: {exc}")) from exc
    finally:
        if tmp is not None:
            tmp.cleanup()
    if rejects:
        raise SourceError(
            [
                Problem(
                    label, f"malformed CSV row ({etype.lower()}: {msg})", row=int(line), column=col if col else None
                )
                for line, col, etype, msg in rejects
            ]
        )
    _number_rows(con, table, skip)
    headers = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()][1:]
    _check_headers(
        label,
        headers,
        raw_headers=_csv_head(path, encoding)[skip] if skip else _first_line_headers(path, encoding),
        row=skip + 1,
    )
    return [" ".join(c.strip() for c in row if c.strip()) for row in head[:skip]]


def _number_rows(con: duckdb.DuckDBPyConnection, table: str, skip: int = 0) -> None:
    """Set `_row` = the row's line in the file (first line = 1): its position in the table, which keeps the
    file's order (DuckDB preserves insertion order), plus 2 and the title rows skipped above the header.

    A table just created holds consecutive row ids, so the position is `rowid - min(rowid)` (a cheap parallel
    UPDATE); the check that the result is exactly 2 … n+1 falls back to numbering by row id order otherwise."""
    con.execute(f"UPDATE {table} SET _row = (rowid - (SELECT min(rowid) FROM {table}) + 2 + ?)::INTEGER", [skip])
    lo, hi, n = con.execute(f"SELECT min(_row), max(_row), count(*) FROM {table}").fetchone()
    if n and (lo != 2 + skip or hi != n + 1 + skip):
        con.execute(
            f"UPDATE {table} SET _row = n._row FROM (SELECT rowid AS id, "
            f"(row_number() OVER (ORDER BY rowid) + 1 + ?)::INTEGER AS _row FROM {table}) n "
            f"WHERE {table}.rowid = n.id",
            [skip],
        )


def _first_line_headers(path: Path, encoding: str) -> list[str]:
    import csv

    with path.open(encoding=encoding, newline="") as fh:
        return next(csv.reader(fh), [])


def _check_headers(label: str, headers: list[str], raw_headers: list[str], row: int = 1) -> None:
    problems = []
    for i, h in enumerate(raw_headers):
        if not h.strip():
            problems.append(Problem(label, "empty column header", row=row, column=f"#{i + 1}"))
    seen: set[str] = set()
    for h in raw_headers:
        if h in seen:
            problems.append(Problem(label, "duplicate column header", row=row, column=h))
        seen.add(h)
    if not headers:
        problems.append(Problem(label, "no columns found", row=row))
    if problems:
        raise SourceError(problems)


def _merge_header_rows(rows: list[list[object]], merged: list[tuple[int, int, int, int]]) -> list[str]:
    """Flatten a multi-row header: cells of a merged range take the range's top-left value, and a lower
    row's text is appended to its parent as '父（单位）|子' → headers like '服务器数量（万台）|2022'."""
    grid = [[("" if v is None else str(v).strip()) for v in row] for row in rows]
    for min_row, min_col, max_row, max_col in merged:
        if min_row > len(grid):
            continue
        value = grid[min_row - 1][min_col - 1]
        for r in range(min_row, min(max_row, len(grid)) + 1):
            for c in range(min_col, max_col + 1):
                if c - 1 < len(grid[r - 1]):
                    grid[r - 1][c - 1] = value
    width = max(len(r) for r in grid)
    headers = []
    for c in range(width):
        parts: list[str] = []
        for r in grid:
            cell = r[c] if c < len(r) else ""
            if cell and (not parts or parts[-1] != cell):
                parts.append(cell)
        headers.append("|".join(parts))
    return headers


def sheet_label(label: str, sheet: str) -> str:
    """How a problem names a sheet of a workbook: 'sources/x.xlsx, sheet 'Data''."""
    return f"{label}, sheet {sheet!r}"


def _uncached_formulas(
    path: Path, sheet: str, rows: list[list[object]], headers: list[str], header_rows: int, label: str
) -> list[Problem]:
    """Cells that hold a formula but no stored result (openpyxl reads those as empty): refused, never dropped.

    openpyxl does not compute formulas; a workbook written by Excel or LibreOffice stores each result, one
    written by a script often does not."""
    import openpyxl

    blanks = {(r, c) for r, row in enumerate(rows) for c, v in enumerate(row) if v is None}
    if not blanks:
        return []
    wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        problems = []
        for r, row in enumerate(wb[sheet].iter_rows(values_only=True)):
            for c, v in enumerate(row):
                formula = v if isinstance(v, str) and v.startswith("=") else getattr(v, "text", None)
                if formula and (r, c) in blanks:
                    where = (
                        headers[c] if r >= header_rows and c < len(headers) else openpyxl.utils.get_column_letter(c + 1)
                    )
                    problems.append(
                        Problem(
                            label,
                            f"formula {formula} has no stored result (the workbook was not "
                            "saved by a program that computes formulas): open it in Excel or "
                            "LibreOffice and save it, or type the value",
                            row=r + 1,
                            column=where,
                        )
                    )
        return problems
    finally:
        wb.close()


def load_xlsx(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    label: str,
    table: str,
    sheet: str | None,
    header_rows: int,
    constants: Sequence[Constant] = (),
) -> tuple[str, list[str]]:
    """CREATE OR REPLACE `table` from one sheet of an XLSX workbook (values as text); returns the sheet's name and
    the title rows above its header."""
    import openpyxl
    import pandas as pd

    try:
        wb = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise SourceError(Problem(label, f"not a readable XLSX workbook: {exc}")) from exc
    if sheet is not None and sheet not in wb.sheetnames:
        raise SourceError(Problem(label, f"sheet {sheet!r} not found; the workbook has {wb.sheetnames}"))
    ws = wb[sheet] if sheet else wb.worksheets[0]
    label = sheet_label(label, ws.title)
    all_rows = [list(r) for r in ws.iter_rows(values_only=True)]
    top = header_offset(all_rows)
    merged = [
        (m.min_row - top, m.min_col, m.max_row - top, m.max_col) for m in ws.merged_cells.ranges if m.min_row > top
    ]
    rows = all_rows[top:]
    if len(rows) <= header_rows:
        raise SourceError(
            Problem(
                label,
                f"sheet {ws.title!r} has no data rows below its {header_rows}-row header",
                row=top + header_rows + 1,
            )
        )
    headers = _merge_header_rows(rows[:header_rows], merged)
    _check_headers(label, headers, headers, row=top + 1)
    if problems := _uncached_formulas(path, ws.title, all_rows, headers, top + header_rows, label):
        raise SourceError(problems)

    def text(v: object) -> str | None:
        if v is None:
            return None
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    body = [
        (i + top + header_rows + 1, [text(v) for v in r])
        for i, r in enumerate(rows[header_rows:])
        if any(v not in (None, "") for v in r)
    ]
    frame = pd.DataFrame(
        [[n, *cells[: len(headers)], *([None] * (len(headers) - len(cells)))] for n, cells in body],
        columns=["_row", *headers],
        dtype=object,
    )
    frame["_row"] = frame["_row"].astype("int32")
    con.register("_xlsx_frame", frame)
    cols = ", ".join(f"CAST({ident(h)} AS VARCHAR) AS {ident(h)}" for h in headers)
    extra, params = _constants_sql(constants)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT _row, {cols}{extra} FROM _xlsx_frame", params)
    con.unregister("_xlsx_frame")
    return ws.title, [" ".join(str(v).strip() for v in row if v not in (None, "")) for row in all_rows[:top]]


@dataclass(frozen=True)
class Loaded:
    """How problems in a loaded table are labelled (a workbook's label names its sheet), and the title rows that
    stood above its header (`表1 …`, `单位：亿元`)."""

    label: str
    titles: list[str]


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    label: str,
    table: str,
    encoding: str,
    sheet: str | None,
    header_rows: int,
    constants: Sequence[Constant] = (),
) -> Loaded:
    """Dispatch on the file type; `constants` are columns added to every row (provenance), bound as parameters."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        titles = load_csv(con, path, label, table, encoding, constants)
    elif suffix in (".xlsx", ".xlsm"):
        sheet_name, titles = load_xlsx(con, path, label, table, sheet, header_rows, constants)
        label = sheet_label(label, sheet_name)
    else:
        raise SourceError(
            Problem(label, f"unsupported file type {suffix!r}; use .csv (UTF-8 or declared encoding) or .xlsx")
        )
    n = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    if n == 0:
        raise SourceError(Problem(label, "file has a header but no data rows", row=2))
    return Loaded(label, titles)
