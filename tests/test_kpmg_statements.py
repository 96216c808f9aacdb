"""The inventory of the KPMG report's quantitative statements (tests/data/kpmg_statements.yaml) against a built project.

Each statement was typed from the report's text (its line, quote, value and unit as written), not read back from the
source tables. The test converts the value to the warehouse's canonical unit with its own table (independent of
pipeline/lib/ingest/units.py) and finds it at the place the inventory names; it then looks for the statement's
printed form in the body (executive summary to "about this report", its tables included, the annex left out) of
both built editions.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import yaml
from pypdf import PdfReader

INVENTORY = Path(__file__).parent / "data" / "kpmg_statements.yaml"
MIN_STATEMENTS = 200
MIN_CITED_IN_BOTH = 150
ANNEX_FIRST = {"zh": "A. 数据来源", "en": "A. Sources"}

# --- this test's own conversion table ---------------------------------------------------------------------
SCALES = {"": 1.0, "万": 1e4, "亿": 1e8, "万亿": 1e12}
# CNY per unit of foreign currency, annual averages typed from the publications: USD from the NBS yearbook's central
# parity and the 2023 communiqué; EUR and JPY from the ECB's euro reference rates, the yen crossed through the euro.
CNY_PER_EUR = {2020: 7.8747, 2021: 7.6282, 2022: 7.0788}
JPY_PER_EUR = {2020: 121.85, 2021: 129.88, 2022: 138.03}
CNY_PER = {
    "元": {y: 1.0 for y in range(1900, 2100)},
    "美元": {1985: 2.9366, 2020: 6.8976, 2021: 6.4515, 2022: 6.7261, 2023: 7.0467},
    "欧元": CNY_PER_EUR,
    "日元": {y: CNY_PER_EUR[y] / JPY_PER_EUR[y] for y in CNY_PER_EUR},
}
EFLOPS = {"GFLOPS": 1e-9, "TFLOPS": 1e-6, "PFLOPS": 1e-3, "EFLOPS": 1.0}
# unit as written -> factor to the canonical unit (% stays %, 月 -> years, 小时/秒 -> seconds, ‰/ppm -> %)
PLAIN = {
    "%": 1.0,
    "‰": 0.1,
    "ppm": 1e-4,
    "倍": 1.0,
    "年": 1.0,
    "月": 1 / 12,
    "秒": 1.0,
    "小时": 3600.0,
    "次/秒": 1.0,
    "PF-days": 1.0,
    "TOPS": 1.0,
    "PB": 1.0,
    "PUE": 1.0,
    "°C": 1.0,
    "平方米": 1.0,
    "年份": 1.0,
}
COUNTED = (
    *("千瓦时", "吨", "个", "台", "辆", "人", "所", "张", "家", "项"),
    *("种", "次", "款", "期", "名", "份", "通", "件", "大类"),
)


def to_canonical(value: float, unit: str, year: int) -> float:
    """Money → yuan (at the year's rate), compute → EFLOPS, counts/energy/mass with 万/亿 multiplied out."""
    if unit in PLAIN:
        return value * PLAIN[unit]
    if unit in EFLOPS:
        return value * EFLOPS[unit]
    for scale in sorted(SCALES, key=len, reverse=True):
        rest = unit[len(scale) :] if unit.startswith(scale) else None
        if rest is None:
            continue
        if rest in CNY_PER:
            return value * SCALES[scale] * CNY_PER[rest][year]
        if rest in COUNTED:
            return value * SCALES[scale]
    raise ValueError(f"the test has no conversion for unit {unit!r}")


@dataclass(frozen=True)
class Statement:
    """One quantitative statement of the report, where the warehouse holds it and how each edition prints it."""

    id: str
    line: int
    quote: str
    value: float | tuple[float, float]
    unit: str
    year: int
    geography: str
    warehouse: dict[str, object]
    zh: str
    en: str
    cited: bool = True  # False: a known gap, not yet cited in the editions (`cited: false` in the inventory)

    @property
    def label(self) -> str:
        return f"{self.id} (report line {self.line}: {self.quote!r})"

    def expected(self) -> float:
        value = self.value
        mid = (value[0] + value[1]) / 2 if isinstance(value, tuple) else float(value)
        return to_canonical(mid, self.unit, self.year)


def load_statements() -> list[Statement]:
    rows = yaml.safe_load(INVENTORY.read_text(encoding="utf-8"))
    return [
        Statement(
            id=r["id"],
            line=r["line"],
            quote=r["quote"],
            value=tuple(r["value"]) if isinstance(r["value"], list) else r["value"],
            unit=r["unit"],
            year=r["year"],
            geography=r["geography"],
            warehouse=r["warehouse"],
            zh=str(r["zh"]),
            en=str(r["en"]),
            cited=r.get("cited", True),
        )
        for r in rows
    ]


STATEMENTS = load_statements()

OBS_QUERY = (
    "SELECT value FROM core.observations WHERE series_id = ? AND geography = ? AND segment = ? AND year = ? "
    "ORDER BY vintage DESC LIMIT 1"
)
AS_WRITTEN_QUERY = (
    "SELECT value_orig, unit_orig FROM core.observations WHERE series_id = ? AND geography = ? AND segment = ? "
    "AND year = ? ORDER BY vintage DESC LIMIT 1"
)
CLAIM_QUERY = "SELECT value, unit, year FROM raw.forecast_claims WHERE claim_id = ?"


def warehouse_value(con: duckdb.DuckDBPyConnection, s: Statement) -> float | None:
    """The canonical value the warehouse holds where the statement says it lives (None if nothing is there)."""
    where = s.warehouse
    if "claim" in where:
        row = con.execute(CLAIM_QUERY, [where["claim"]]).fetchone()
        if row is None:
            return None
        value, unit, year = row
        return to_canonical(float(str(value).replace(",", "")), unit, int(year))
    params = [where["series"], where["geography"], where["segment"], where["year"]]
    if where.get("as_written"):
        # an amount whose yuan value is the publisher's own RMB figure (a statement of its own): check the amount
        # in the currency the report wrote, converted by this test
        row = con.execute(AS_WRITTEN_QUERY, params).fetchone()
        return None if row is None else to_canonical(row[0], row[1], int(where["year"]))
    row = con.execute(OBS_QUERY, params).fetchone()
    return None if row is None else row[0]


def body_text(pdf: Path, lang: str) -> str:
    """The edition's text from the first page after the contents to the page before the annex."""
    reader = PdfReader(str(pdf))
    chapters = [item for item in reader.outline if not isinstance(item, list)]
    starts = {item.title: reader.get_destination_page_number(item) for item in chapters}
    first = min(starts.values())
    annex = starts[ANNEX_FIRST[lang]]
    text = subprocess.run(
        ["pdftotext", "-f", str(first + 1), "-l", str(annex), "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return text


def occurrences(text: str, form: str) -> int:
    """How often the printed form occurs in the text; a form that opens with a digit must not continue a longer
    number (`20%` is not counted in `120%`).

    Counted twice, the larger count kept: with all whitespace removed (a line break may fall inside `3,229亿元` or
    `RMB 24 tn`) and with each run of whitespace as one space (table cells side by side stay apart: `71 46.7`)."""
    counts = []
    for squeeze in ("", " "):
        haystack = re.sub(r"\s+", squeeze, text)
        needle = re.sub(r"\s+", squeeze, form)
        hits = 0
        for match in re.finditer(re.escape(needle), haystack):
            before = haystack[match.start() - 1 : match.start()]
            if not needle[:1].isdigit() or not before or not (before.isdigit() or before in ".,"):
                hits += 1
        counts.append(hits)
    return max(counts)


def cited(text: str, form: str) -> bool:
    return occurrences(text, form) > 0


def found_in(text: str, lang: str) -> set[str]:
    """Ids of the statements whose printed form is in the text; statements sharing one form (`35%` for two
    different figures) need as many occurrences as there are of them."""
    by_form: dict[str, list[Statement]] = {}
    for s in STATEMENTS:
        by_form.setdefault(re.sub(r"\s+", "", getattr(s, lang)), []).append(s)
    found = set()
    for group in by_form.values():
        n = occurrences(text, getattr(group[0], lang))
        found |= {s.id for s in group[:n]}
    return found


@pytest.fixture(scope="module")
def built_con(built_template: Path):
    con = duckdb.connect(str(built_template / "out" / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def bodies(built_template: Path) -> dict[str, str]:
    return {lang: body_text(built_template / "out" / f"report_{lang}.pdf", lang) for lang in ("zh", "en")}


def test_inventory_is_sound() -> None:
    assert len(STATEMENTS) >= MIN_STATEMENTS, f"{len(STATEMENTS)} statements in the inventory, want {MIN_STATEMENTS}"
    assert len({s.id for s in STATEMENTS}) == len(STATEMENTS), "an id appears twice"
    keys = [tuple(sorted(s.warehouse.items())) for s in STATEMENTS]
    assert len(set(keys)) == len(keys), "two statements name the same place in the warehouse"
    for s in STATEMENTS:
        s.expected()  # every unit converts
        assert s.zh and s.en, f"{s.label}: no printed form"


def test_conversion_table() -> None:
    assert to_canonical(527, "亿美元", 2022) == pytest.approx(527e8 * 6.7261)
    assert to_canonical(2, "万亿日元", 2021) == pytest.approx(2e12 * 7.6282 / 129.88)
    assert to_canonical(1.5, "万亿元", 2021) == pytest.approx(1.5e12)
    assert to_canonical(939, "亿千瓦时", 2020) == pytest.approx(9.39e10)
    assert to_canonical(6, "‰", 2023) == pytest.approx(0.6)
    assert to_canonical(255, "TFLOPS", 2021) == pytest.approx(2.55e-4)
    assert to_canonical(8, "小时", 2023) == pytest.approx(28800)
    with pytest.raises(ValueError):
        to_canonical(1, "furlongs", 2023)


def test_cited_rejects_a_longer_number() -> None:
    assert cited("增长120%", "20%") is False
    assert cited("增长 20%，", "20%") is True
    assert cited("RMB 24\ntn", "RMB 24 tn") is True
    assert occurrences("提高45%、缩短35%、降低35%", "35%") == 2
    assert cited("51.3 中国联通 约50 36.3", "中国联通约50") is True


@pytest.mark.parametrize("statement", STATEMENTS, ids=[s.id for s in STATEMENTS])
def test_statement_in_warehouse(built_con, statement: Statement) -> None:
    actual = warehouse_value(built_con, statement)
    assert actual is not None, f"{statement.label}: nothing in the warehouse at {statement.warehouse}"
    expected = statement.expected()
    rel = abs(actual - expected) / abs(expected)
    assert rel < 0.005, (
        f"{statement.label}: warehouse {actual:.6g} at {statement.warehouse} vs the report's "
        f"{statement.value} {statement.unit} = {expected:.6g} (relative difference {rel:.2%})"
    )


def test_statements_cited_in_both_editions(bodies: dict[str, str]) -> None:
    found = {lang: found_in(bodies[lang], lang) for lang in bodies}
    both = found["zh"] & found["en"]
    print(
        f"\nstatements: {len(STATEMENTS)}; cited in zh: {len(found['zh'])}, in en: {len(found['en'])}, "
        f"in both: {len(both)}"
    )
    missing = {
        s.id: f"{s.label}: zh {s.zh!r} {'ok' if s.id in found['zh'] else 'missing'}, "
        f"en {s.en!r} {'ok' if s.id in found['en'] else 'missing'}"
        for s in STATEMENTS
        if s.id not in both
    }
    print("\n".join(missing.values()))
    lost = [missing[s.id] for s in STATEMENTS if s.cited and s.id in missing]
    assert not lost, "statements the inventory expects in both editions but not found:\n" + "\n".join(lost)
    assert len(both) >= MIN_CITED_IN_BOTH, (
        f"only {len(both)} of {len(STATEMENTS)} statements are cited in both editions (want {MIN_CITED_IN_BOTH}); "
        "not in both:\n" + "\n".join(missing.values())
    )
