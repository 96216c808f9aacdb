"""sources/README.md documents every manifest entry (figure/page, publisher, status) and stays in sync."""

from __future__ import annotations

import importlib.util

from pipeline.config import PROJECT_ROOT
from pipeline.lib.manifest import STATUSES, load_manifest


def _script():
    spec = importlib.util.spec_from_file_location("sources_table", PROJECT_ROOT / "scripts" / "sources_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_table_is_up_to_date() -> None:
    script = _script()
    readme = (PROJECT_ROOT / "sources" / "README.md").read_text(encoding="utf-8")
    expected = script.updated_readme(readme, script.render_table(PROJECT_ROOT / "sources"))
    assert readme == expected, "run: .venv/bin/python scripts/sources_table.py"


def test_readme_lists_every_entry_and_explains_every_status() -> None:
    readme = (PROJECT_ROOT / "sources" / "README.md").read_text(encoding="utf-8")
    for spec in load_manifest(PROJECT_ROOT / "sources"):
        assert f"| {spec.id} | `{spec.file}` |" in readme
    for status in STATUSES:
        assert f"| {status} |" in readme


def test_publisher_names_split_by_language() -> None:
    from pipeline.lib.manifest import CJK, load_manifest, publisher_in

    assert publisher_in("中国信息通信研究院 (CAICT)", "zh") == "中国信息通信研究院"
    assert publisher_in("中国信息通信研究院 (CAICT)", "en") == "CAICT"
    assert publisher_in("Gartner", "zh") == publisher_in("Gartner", "en") == "Gartner"
    names = {publisher_in(spec.publisher, "en") for spec in load_manifest(PROJECT_ROOT / "sources")}
    assert [name for name in names if CJK.search(name)] == []


def test_seed_references_follow_the_edition_language() -> None:
    from pipeline.lib.report.context import seed_reference

    reference = "图14 / Figure 14, section 04 识局 (p. 29 ff.)"
    assert seed_reference(reference, "zh") == "KPMG 图14, section 04 识局 (p. 29 ff.)"
    assert seed_reference(reference, "en") == "KPMG fig. 14, section 04 识局 (p. 29 ff.)"
    assert seed_reference("图7 / Figure 7 (p. 21)", "zh") == "KPMG 图7 (p. 21)"
    assert seed_reference("图7 / Figure 7 (p. 21)", "en") == "KPMG fig. 7 (p. 21)"
    assert seed_reference("见各行 source 列 / see each row's source column", "en") == "see each row's source column"
    assert seed_reference("pp. 28-29; as in figure 7 and 图 9", "zh") == "pp. 28-29; as in figure 7 and KPMG 图9"


def test_changed_inputs_count_manifest_entries() -> None:
    from pipeline.lib.inputs import changed_inputs, table_of, unrecorded_entry

    old = {"a": "1", "entry:a": "e1", "b": "2", "entry:b": "e2", "catalog:series.csv": "c"}
    assert changed_inputs(old, {**old, "entry:b": "e3"}) == ["entry:b"]
    assert changed_inputs(old, {**old, "c": "3", "entry:c": "e4"}) == ["c", "entry:c"]
    before_entries = {"a": "1", "b": "2"}  # an edition recorded before entries were hashed: re-read all once
    now = {"a": "1", "entry:a": "e1", "b": "2", "entry:b": "e2"}
    assert changed_inputs(before_entries, now) == ["entry:a", "entry:b"]
    assert all(unrecorded_entry(n, before_entries, now) for n in changed_inputs(before_entries, now))  # changelog
    assert not unrecorded_entry("entry:c", {}, {"c": "3", "entry:c": "e"})  # a new table is a real change
    assert [table_of(n) for n in ("a", "entry:b", "catalog:series.csv")] == ["a", "b", None]
