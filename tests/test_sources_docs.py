"""sources/README.md documents every manifest entry (figure/page, publisher, status) and stays in sync."""

from __future__ import annotations

import re

from pipeline.config import PROJECT_ROOT
from pipeline.lib.ingest.manifest import STATUSES, load_manifest


def test_readme_is_up_to_date() -> None:
    from pipeline.lib.ingest.manifest_docs import updated_readme

    readme = (PROJECT_ROOT / "sources" / "README.md").read_text(encoding="utf-8")
    assert readme == updated_readme(readme, PROJECT_ROOT / "sources"), "run: .venv/bin/python scripts/sources_table.py"


def test_every_column_role_is_documented() -> None:
    from pipeline.lib.ingest.columns import ROLE_ALIASES, ROLE_DOCS, ROLES

    assert set(ROLES) | {"year_column", "series_column"} == set(ROLE_DOCS)
    readme = (PROJECT_ROOT / "sources" / "README.md").read_text(encoding="utf-8")
    for role, aliases in ROLE_ALIASES.items():
        assert f"| {role} | {', '.join(f'`{a}`' for a in aliases)} |" in readme


def test_readme_lists_every_entry_and_explains_every_status() -> None:
    readme = (PROJECT_ROOT / "sources" / "README.md").read_text(encoding="utf-8")
    for spec in load_manifest(PROJECT_ROOT / "sources"):
        assert f"| {spec.id} | `{spec.file}` |" in readme
    for status in STATUSES:
        assert f"| {status} |" in readme


def test_publisher_names_split_by_language() -> None:
    from pipeline.lib.ingest.manifest import CJK, load_manifest, publisher_in

    assert publisher_in("中国信息通信研究院 (CAICT)", "zh") == "中国信息通信研究院"
    assert publisher_in("中国信息通信研究院 (CAICT)", "en") == "CAICT"
    assert publisher_in("Gartner", "zh") == publisher_in("Gartner", "en") == "Gartner"
    names = {publisher_in(spec.publisher, "en") for spec in load_manifest(PROJECT_ROOT / "sources")}
    assert [name for name in names if CJK.search(name)] == []


def test_seed_references_follow_the_edition_language() -> None:
    from pipeline.lib.ingest.manifest import reference_in

    reference = "图14 / Figure 14, section 04 识局 (p. 29 ff.)"
    assert reference_in(reference, "zh") == "毕马威报告图14、04 识局（第29页起）"
    assert reference_in(reference, "en") == "KPMG fig. 14, section 04 (p. 29 ff.)"
    assert reference_in("图7 / Figure 7 (p. 21)", "zh") == "毕马威报告图7（第21页）"
    assert reference_in("图7 / Figure 7 (p. 21)", "en") == "KPMG fig. 7 (p. 21)"
    assert reference_in("见各行 source 列 / see each row's source column", "en") == "see each row's source column"
    assert reference_in("pp. 28-29, 69 ff.", "zh") == "第28-29页、第69页起"
    assert reference_in("sections 03 有为 (p. 21 ff.), 05 应变 case 7 (p. 41 ff.) and the abstract", "zh") == (
        "03 有为（第21页起）、05 应变 案例7（第41页起）及摘要"
    )
    assert reference_in("section 05 应变 (p. 41 ff.), 案例一 to 案例十一", "zh") == (
        "05 应变（第41页起）、案例一至案例十一"
    )
    assert reference_in("pp. 28-29; as in figure 7 and 图 9", "en") == "pp. 28-29; as in figure 7 and KPMG fig. 9"
    assert reference_in("section 05 应变：需求洞察篇 (p. 41 ff.), 案例一 to 案例十一", "en") == (
        "section 05 (p. 41 ff.), cases 1 to 11"
    )
    assert reference_in("sections 03 有为 (p. 21 ff.), 05 应变 case 7 (p. 41 ff.)", "en") == (
        "sections 03 (p. 21 ff.), 05 case 7 (p. 41 ff.)"
    )


def test_every_bundled_reference_reads_in_chinese() -> None:
    from pipeline.lib.ingest.manifest import load_manifest, reference_in, reference_problem

    for spec in load_manifest(PROJECT_ROOT / "sources"):
        assert reference_problem(spec.reference) is None, spec.id
        assert not re.search(r"\b(?:p|pp|sections?|ff|case|and)\b", reference_in(spec.reference, "zh")), spec.id
    assert reference_problem("Table 3, page 12") is not None


def test_changed_inputs_count_manifest_entries() -> None:
    from pipeline.lib.ingest.inputs import changed_inputs, table_of, unrecorded_entry

    old = {"a": "1", "entry:a": "e1", "b": "2", "entry:b": "e2", "catalog:series.csv": "c"}
    assert changed_inputs(old, {**old, "entry:b": "e3"}) == ["entry:b"]
    assert changed_inputs(old, {**old, "c": "3", "entry:c": "e4"}) == ["c", "entry:c"]
    before_entries = {"a": "1", "b": "2"}  # an edition recorded before entries were hashed: re-read all once
    now = {"a": "1", "entry:a": "e1", "b": "2", "entry:b": "e2"}
    assert changed_inputs(before_entries, now) == ["entry:a", "entry:b"]
    assert all(unrecorded_entry(n, before_entries, now) for n in changed_inputs(before_entries, now))  # changelog
    assert not unrecorded_entry("entry:c", {}, {"c": "3", "entry:c": "e"})  # a new table is a real change
    assert [table_of(n) for n in ("a", "entry:b", "catalog:series.csv")] == ["a", "b", None]
