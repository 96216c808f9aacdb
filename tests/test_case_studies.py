"""The eleven case studies of the demand chapter: every numeric metric of the case text table
(sources/case_study_metrics.csv) is a typed observation of core.observations, with the same value and unit as
published, and both editions of the chapter cite each of them from the warehouse in one sub-section per case.

The metrics are read from the text table here, not from the observation table; the test converts each to the
warehouse's canonical unit with its own small table."""

from __future__ import annotations

import csv
import re
from collections import Counter

import pytest

from pipeline.config import PROJECT_ROOT

METRICS = PROJECT_ROOT / "sources" / "case_study_metrics.csv"
PAGES = {lang: PROJECT_ROOT / "report_templates" / "computing_power" / lang / "06-demand.md" for lang in ("zh", "en")}
SOURCE_ID = "kpmg_case_studies"
CASE_NUMBER = re.compile(r"Case (\d+)")
CASES = [f"case_{n:02d}" for n in range(1, 12)]
# A published number: an optional qualifier, a number with thousands separators, optionally a range.
NUMERIC = re.compile(r"^(约|近|超|<)?([0-9][0-9,]*(?:\.[0-9]+)?)(?:-([0-9]+(?:\.[0-9]+)?))?$")
# This test's own conversion: unit as published → (factor to the canonical unit, canonical unit).
CANONICAL = {
    "%": (1.0, "%"),
    "‰": (0.1, "%"),
    "ppm": (1e-4, "%"),
    "倍": (1.0, "x"),
    "万元": (1e4, "CNY"),
    "亿元": (1e8, "CNY"),
    "万人": (1e4, "count"),
    "万台": (1e4, "count"),
    "万份": (1e4, "count"),
    "万通": (1e4, "count"),
    **{word: (1.0, "count") for word in ("个", "家", "项", "种", "次", "张", "款", "期", "名", "大类", "件", "人")},
    "秒": (1.0, "s"),
    "小时": (3600.0, "s"),
    "月": (1 / 12, "years"),
    "年": (1.0, "years"),
    "TFLOPS": (1e-6, "EFLOPS"),
    "PFLOPS": (1e-3, "EFLOPS"),
    "PB": (1.0, "PB"),
    "平方米": (1.0, "m²"),
    "°C": (1.0, "°C"),
    "PUE": (1.0, "index"),
    "吨": (1.0, "t"),
    "年份": (1.0, "year"),
}


def _numeric_metrics() -> list[tuple[str, str, str, str]]:
    """(case segment, value as published, unit as published (its Chinese half), metric) of every metric with a
    number."""
    out = []
    with METRICS.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            value = row["value"].strip()
            if not NUMERIC.match(value):
                continue
            case = "case_{:02d}".format(int(CASE_NUMBER.search(row["case"]).group(1)))
            unit = row["unit"].split(" / ")[0].strip()
            out.append((case, value.replace(",", ""), unit, row["metric_en"]))
    return out


def _published(value: str) -> float:
    qualifier, low, high = NUMERIC.match(value).groups()
    return (float(low) + float(high)) / 2 if high else float(low)


def test_metrics_table_is_read() -> None:
    metrics = _numeric_metrics()
    assert len(metrics) >= 70, "the numeric metrics of the case text table were not found"
    assert {m[0] for m in metrics} == set(CASES) - {"case_08"}  # case 8 states no number


def test_every_numeric_metric_is_an_observation(warehouse_con) -> None:
    rows = warehouse_con.execute(
        "SELECT segment, value_text, unit_orig FROM core.observations WHERE source_id = ?", [SOURCE_ID]
    ).fetchall()
    published = Counter((case, value, unit) for case, value, unit, _ in _numeric_metrics())
    stored = Counter((segment, value.replace(",", ""), unit) for segment, value, unit in rows)
    assert published - stored == Counter(), "metrics of the case text table without their observation"
    assert stored - published == Counter(), "case observations that are no metric of the case text table"


@pytest.mark.parametrize(("case", "value", "unit", "metric"), _numeric_metrics(), ids=lambda v: str(v))
def test_observation_value_in_canonical_units(warehouse_con, case: str, value: str, unit: str, metric: str) -> None:
    factor, canonical = CANONICAL[unit]
    found = warehouse_con.execute(
        "SELECT value, unit FROM core.observations WHERE source_id = ? AND segment = ? AND value_text = ? "
        "AND unit_orig = ?",
        [SOURCE_ID, case, value, unit],
    ).fetchall()
    assert found, f"{case} {metric}: {value} {unit} not in core.observations"
    assert all(u == canonical for _, u in found), f"{case} {metric}: stored in {found}, expected {canonical}"
    assert all(v == pytest.approx(_published(value) * factor) for v, _ in found), f"{case} {metric}: {found}"


def _references(text: str) -> set[tuple[str, str, str, int]]:
    return {
        (s, g, seg, int(y)) for s, g, seg, y in re.findall(r"\{v:([a-z0-9_]+)/([A-Z]+)/(case_\d\d)@(\d{4})\}", text)
    }


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_chapter_cites_every_case_observation(warehouse_con, lang: str) -> None:
    text = PAGES[lang].read_text(encoding="utf-8")
    keys = set(
        warehouse_con.execute(
            "SELECT series_id, geography, segment, year FROM core.observations WHERE source_id = ?", [SOURCE_ID]
        ).fetchall()
    )
    missing = sorted(keys - _references(text))
    assert not missing, f"{lang}: case observations the chapter does not cite: {missing}"


def test_editions_have_one_subsection_per_case_in_the_same_order() -> None:
    """Each `###` sub-section cites the numbers of one case, the cases in their order, the same in both editions."""
    order = {}
    for lang, path in PAGES.items():
        text = path.read_text(encoding="utf-8")
        subsections = [part.split("\n## ")[0] for part in re.split(r"^### ", text, flags=re.MULTILINE)[1:]]
        assert len(subsections) == len(CASES), f"{lang}: {len(subsections)} case sub-sections"
        order[lang] = [sorted({seg for _, _, seg, _ in _references(s)}) for s in subsections]
        assert order[lang] == [[c] if c != "case_08" else [] for c in CASES], f"{lang}: {order[lang]}"
    assert order["zh"] == order["en"]
