"""The reader pages of both built editions show no production process: no seed/rebuilt wording, internal ids,
file names, raw method codes, float-formatted years or words of the other language (the bilingual glossary's
own terms excepted)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from pipeline.config import PROJECT_ROOT

GLOSSARY = yaml.safe_load((PROJECT_ROOT / "report_templates" / "glossary.yaml").read_text(encoding="utf-8"))
PROCESS_WORDS = {
    "the word 'seed'": re.compile(r"\bseed\b", re.IGNORECASE),
    "原报告": re.compile(r"原报告"),
    "rebuilt": re.compile(r"\brebuilt\b", re.IGNORECASE),
    "重建": re.compile(r"重建"),
    "a snake_case id": re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b"),
    "a file name": re.compile(r"\b[\w-]+\.(?:csv|xlsx|yaml|yml|py|md|json|duckdb|parquet)\b", re.IGNORECASE),
    "a raw method code": re.compile(r"\b(?:cagr|hist_cagr|share_of|naive)\b"),
    "a year printed as a float": re.compile(r"\b(?:19|20)\d\d\.0\b"),
}
CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
LOWER_WORD = re.compile(r"(?<![A-Za-z])[a-z]{3,}(?![A-Za-z])")
UNIT_WORDS = frozenset({"days"})  # PF-days, a unit of training compute
GLOSSARY_ZH = tuple(entry["zh"] for entry in GLOSSARY)
GLOSSARY_EN_WORDS = frozenset(
    word for entry in GLOSSARY for word in LOWER_WORD.findall(f"{entry['en']} {entry['def_en']}".lower())
)


def process_leaks(text: str) -> list[str]:
    """Each production-process pattern found in `text`, with the match."""
    return [f"{what}: {m.group(0)!r}" for what, pattern in PROCESS_WORDS.items() for m in pattern.finditer(text)]


def chinese_in_english(text: str) -> list[str]:
    """Runs of Chinese characters in an English text that are not part of a glossary term."""
    return [run for run in CJK_RUN.findall(text) if not any(run in term for term in GLOSSARY_ZH)]


def english_in_chinese(text: str) -> list[str]:
    """Lower-case English words in a Chinese text (proper names and units are capitalised or short), except the
    words of the glossary's English column and units."""
    return [word for word in LOWER_WORD.findall(text) if word not in GLOSSARY_EN_WORDS | UNIT_WORDS]


def _text(pdf: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(pdf).pages)


@pytest.fixture(scope="module")
def editions(built_template: Path) -> dict[str, str]:
    """The text of each built edition."""
    return {lang: _text(built_template / "out" / f"report_{lang}.pdf") for lang in ("zh", "en")}


def test_the_scanners_catch_each_kind_of_leak() -> None:
    planted = "见原报告 seed report (2025.0) cloud_market, sources/series.csv, method cagr, rebuilt, 重建"
    kinds = {leak.split(":")[0] for leak in process_leaks(planted)}
    assert kinds == set(PROCESS_WORDS)
    assert chinese_in_english("Figure 3, section 04 识局 (p. 29)") == ["识局"]
    assert chinese_in_english("Computing power 算力") == []
    assert english_in_chinese("见各行 source 列；单位EFLOPS，KPMG报告") == ["source"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_production_process_on_reader_pages(editions: dict[str, str], lang: str) -> None:
    assert process_leaks(editions[lang]) == []


def test_english_edition_has_no_chinese_outside_the_glossary(editions: dict[str, str]) -> None:
    assert chinese_in_english(editions["en"]) == []


def test_chinese_edition_has_no_english_words(editions: dict[str, str]) -> None:
    assert english_in_chinese(editions["zh"]) == []


def test_the_cover_gives_the_edition_month_in_each_language(built_template: Path) -> None:
    """The cover is dated by month in the edition's language; the bundled sources' latest publication is the KPMG
    report of July 2023."""
    for lang, date in (("zh", "2023年7月"), ("en", "July 2023")):
        cover = PdfReader(built_template / "out" / f"report_{lang}.pdf").pages[0].extract_text()
        assert date in cover, cover
        assert not re.search(r"\d{4}-\d\d-\d\d", cover), cover


def _english_strings(node: object, path: str = "") -> list[tuple[str, str]]:
    if isinstance(node, dict):
        found = [(path, node["en"])] if isinstance(node.get("en"), str) else []
        return found + [s for k, v in node.items() if k != "en" for s in _english_strings(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [s for i, v in enumerate(node) for s in _english_strings(v, f"{path}[{i}]")]
    return []


def test_chart_words_in_english_have_no_chinese() -> None:
    """Chart images are not in the PDF's text, so their English words are checked where they are written: the
    figures' catalogue and the chart specs."""
    files = [PROJECT_ROOT / "report_templates" / "i18n" / "figures.yaml"]
    files += sorted((PROJECT_ROOT / "report_templates" / "charts").glob("*.yaml"))
    leaks = [
        f"{file.name}{where}: {text!r}"
        for file in files
        for where, text in _english_strings(yaml.safe_load(file.read_text(encoding="utf-8")))
        if CJK_RUN.search(text)
    ]
    assert not leaks, leaks
