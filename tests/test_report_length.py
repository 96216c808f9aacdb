"""The report body is research, not a data companion (issue 15): its prose, executive summary and chapters without
the annex, figure captions or tables, carries at least 20,000 Chinese characters in the zh edition and 12,000
words in the en edition, measured on the README's build."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.lib.report.build import chart_paths, read_context
from pipeline.lib.report.context import edition_view
from pipeline.lib.report.records import Paragraph

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
WORD = re.compile(r"[A-Za-z0-9]+(?:[-'’.,][A-Za-z0-9]+)*")


def _body_prose(built: Path, lang: str) -> str:
    """The plain text of the body's prose (every chapter, none of the appendix) of one built edition."""
    ctx = read_context(built / "out" / "build" / "context.json")
    view = edition_view(ctx, lang, chart_paths(ctx, built / "out" / "build" / "charts")[lang])
    assert [s.id for s in view.sections][0] == "00-summary"
    return "\n".join(b.text for s in view.sections for b in s.blocks if isinstance(b, Paragraph))


@pytest.fixture(scope="module")
def prose(built_template: Path) -> dict[str, str]:
    return {lang: _body_prose(built_template, lang) for lang in ("zh", "en")}


def test_counting() -> None:
    assert len(HAN.findall("算力（EFLOPS）达到3,229亿元。")) == 6
    assert len(WORD.findall("China's cloud market, RMB 322.9 bn in 2021 — up 30.9%.")) == 10


def test_zh_body_has_at_least_20000_chinese_characters(prose: dict[str, str]) -> None:
    count = len(HAN.findall(prose["zh"]))
    assert count >= 20_000, f"zh body: {count} Chinese characters"
    print(f"zh body: {count} Chinese characters")


def test_en_body_has_at_least_12000_words(prose: dict[str, str]) -> None:
    count = len(WORD.findall(prose["en"]))
    assert count >= 12_000, f"en body: {count} words"
    print(f"en body: {count} words")


def test_the_annex_is_not_counted(built_template: Path, prose: dict[str, str]) -> None:
    ctx = read_context(built_template / "out" / "build" / "context.json")
    view = edition_view(ctx, "en", chart_paths(ctx, built_template / "out" / "build" / "charts")["en"])
    annex = "\n".join(b.text for s in view.appendix for b in s.blocks if isinstance(b, Paragraph))
    assert annex.strip() and annex.strip().splitlines()[0] not in prose["en"]
