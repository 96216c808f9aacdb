"""The executive summary's findings on the published claims state what the live verdict says: a new vintage that
turns a verdict turns the finding's heading with it (issue 15)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import prose_context

from pipeline.lib.report.context import edition_view
from pipeline.lib.report.pages import report_dir
from pipeline.lib.report.records import Paragraph

# What each verdict says of a claim, as a heading states it; written here from the verdicts' meaning.
FINDINGS = {
    "zh": {"supported": "有数据支撑", "missed": "按现有趋势难以实现", "not_assessed": "尚缺足够数据检验"},
    "en": {
        "supported": "is borne out by the data",
        "missed": "falls short on current trends",
        "not_assessed": "cannot yet be tested against the data",
    },
}


def _summary_only(tmp_path: Path) -> Path:
    """The bundled report reduced to its executive summary (its other pages hold figures this test has none of)."""
    summary = "00-summary.md"
    folder = Path(
        shutil.copytree(
            report_dir(),
            tmp_path / "report",
            ignore=lambda _, names: [n for n in names if n.endswith(".md") and n != summary],
        )
    )
    definition = (folder / "report.yaml").read_text(encoding="utf-8")
    definition = re.sub(r"chapters:\n(  - .*\n)+appendix:\n(  - .*\n)+", "chapters:\n  - 00-summary\n", definition)
    (folder / "report.yaml").write_text(definition, encoding="utf-8")
    return folder


def _headings(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, list[str]]:
    """The bold headings of the summary's numbered findings, per edition, as plain text."""
    ctx = prose_context(con, folder)
    out: dict[str, list[str]] = {}
    for lang in ("zh", "en"):
        view = edition_view(ctx, lang, {})
        text = "\n".join(b.html for s in view.sections for b in s.blocks if isinstance(b, Paragraph))
        out[lang] = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<strong>(.*?)</strong>", text)]
    return out


@pytest.fixture()
def warehouse_copy(built_warehouse: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(built_warehouse, tmp_path / "warehouse.duckdb"))


def _set_verdict(path: Path, claim: str, verdict: str) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute("UPDATE forecast.headlines SET verdict = ? WHERE claim_id = ?", [verdict, claim])
    finally:
        con.close()


@pytest.mark.parametrize("verdict", ["supported", "missed", "not_assessed"])
def test_claim_findings_follow_the_verdict(warehouse_copy: Path, tmp_path: Path, verdict: str) -> None:
    for claim in ("de_2025", "core_2025"):
        _set_verdict(warehouse_copy, claim, verdict)
    con = duckdb.connect(str(warehouse_copy), read_only=True)
    try:
        year = con.execute("SELECT year FROM forecast.headlines WHERE claim_id = 'de_2025'").fetchone()[0]
        headings = _headings(con, _summary_only(tmp_path))
    finally:
        con.close()
    zh, en = FINDINGS["zh"][verdict], FINDINGS["en"][verdict]
    assert f"数字经济{year}年目标{zh}" in headings["zh"], headings["zh"]
    assert f"算力核心产业{year}年规模判断{zh}" in headings["zh"], headings["zh"]
    assert f"The {year} digital-economy target {en}." in headings["en"], headings["en"]
    assert f"The {year} claim for the core computing-power industry {en}." in headings["en"], headings["en"]
    others = {v for v in FINDINGS["zh"] if v != verdict}
    assert not any(FINDINGS["zh"][v] in h for v in others for h in headings["zh"]), headings["zh"]


def test_no_finding_heading_states_a_verdict_in_fixed_words() -> None:
    """Every verdict phrase in the summary's headings comes from a claim reference, never typed."""
    for lang in ("zh", "en"):
        text = (report_dir() / lang / "00-summary.md").read_text(encoding="utf-8")
        for heading in re.findall(r"\*\*(.*?)\*\*", text):
            plain = re.sub(r"\{[^}]*\}", "", heading)
            for phrase in (*FINDINGS[lang].values(), "有数据支撑", "存在缺口", "borne out", "falls short"):
                assert phrase not in plain, f"{lang}: '{heading}' states a verdict in fixed words"
