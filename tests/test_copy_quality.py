"""Copy quality of the built editions (issue 15): no doubled words or doubled qualifiers in any paragraph, heading
or list item of either edition, as the reader sees them (references resolved)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from pipeline.lib.report.build import chart_paths, read_context
from pipeline.lib.report.context import edition_view
from pipeline.lib.report.records import Paragraph

BLOCK_END = re.compile(r"</(?:p|h[1-6]|li)>")
DOUBLED = {
    "zh": (
        re.compile(r"([\u4e00-\u9fff]{2,6})\1"),  # 超过超过, 以下以下
        re.compile(
            r"(?:超过|逾|不低于|至少)(?:约|大约|超过|逾|不低于)\d|(?:约|大约)(?:超过|逾|不低于|至少)\d"
        ),  # 约超过5
        re.compile(r"\d[\d.,]*[%倍]?(?:以上|以下)(?:以上|以下)"),
        re.compile(r"(?:达到?|为)(?:超过?|逾)\d"),  # 即达超过1,200万美元
    ),
    "en": (
        re.compile(r"\b(\w+) \1\b", re.IGNORECASE),  # the the
        re.compile(
            r"\b(?:exceeds?|exceeded|over|above|below|about|more than|at least|at most|under) "
            r"(?:over|above|below|about|more than|at least|at most|under)\b",
            re.IGNORECASE,
        ),  # exceed over, below at most
    ),
}


def doubled(text: str, lang: str) -> list[str]:
    """Each doubled word or qualifier in `text`, with some context."""
    return [text[max(0, m.start() - 20) : m.end() + 10] for p in DOUBLED[lang] for m in p.finditer(text)]


def _blocks(built: Path, lang: str) -> list[str]:
    """The plain text of every paragraph, heading and list item of one built edition, body and annex."""
    ctx = read_context(built / "out" / "build" / "context.json")
    view = edition_view(ctx, lang, chart_paths(ctx, built / "out" / "build" / "charts")[lang])
    out = []
    for section in (*view.sections, *view.appendix):
        for block in section.blocks:
            if isinstance(block, Paragraph):
                for part in BLOCK_END.split(block.html):
                    text = html.unescape(re.sub(r"<[^>]+>", "", part))
                    out.append(re.sub(r"\s+", "" if lang == "zh" else " ", text).strip())
    return [t for t in out if t]


def test_the_scanner_finds_doubled_words() -> None:
    assert doubled("规模超过超过8万亿元", "zh") and doubled("须降到1.3以下以下", "zh") and doubled("约超过5万", "zh")
    assert doubled("成本即达超过1,200万美元", "zh")
    assert doubled("sales exceed over 5 million", "en") and doubled("below at most 1.3", "en")
    assert doubled("in the the base case", "en")
    assert not doubled("人人可得，节约超40%", "zh") and not doubled("about RMB 5 tn, over 10%", "en")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_doubled_words_in_either_edition(built_template: Path, lang: str) -> None:
    found = [hit for text in _blocks(built_template, lang) for hit in doubled(text, lang)]
    assert not found, found
