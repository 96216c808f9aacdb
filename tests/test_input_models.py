"""The input models refuse what they do not declare and name the file, line and key of every problem: the manifest
(and an entry file of its own), the catalogues and the forecast inputs; the README's key table is the model's."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
import yaml

from pipeline.config import PROJECT_ROOT
from pipeline.lib.errors import SourceError
from pipeline.lib.forecast.inputs import read_assumptions
from pipeline.lib.ingest.catalog import load_catalogs
from pipeline.lib.ingest.manifest import TableSpec, entry_file_problems, load_manifest
from pipeline.lib.ingest.tables import ensure_schemas, ingest_table

ENTRY = """\
  - id: cloud_market_2023
    file: cloud.csv
    publisher: 中国信息通信研究院 (CAICT)
    title_zh: 云计算白皮书（2023年）
    title_en: Cloud Computing White Paper (2023)
    published: 2023-07-25
    reference: p. 12
    status: solid
"""


def _sources(tmp_path: Path, entry: str) -> Path:
    """A sources/ folder holding one table and a manifest whose only entry (from line 3 on) is `entry`."""
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "cloud.csv").write_text("year,value\n2022,1\n", encoding="utf-8")
    (sources / "manifest.yaml").write_text("# one entry\ntables:\n" + entry, encoding="utf-8")
    return sources


def _manifest_error(tmp_path: Path, entry: str) -> str:
    with pytest.raises(SourceError) as info:
        load_manifest(_sources(tmp_path, entry))
    return str(info.value)


def test_the_test_entry_itself_is_accepted(tmp_path: Path) -> None:
    [spec] = load_manifest(_sources(tmp_path, ENTRY))
    assert (spec.id, spec.published.isoformat(), spec.header_rows) == ("cloud_market_2023", "2023-07-25", 1)


def test_an_unknown_key_in_an_entry_is_refused_with_the_accepted_keys(tmp_path: Path) -> None:
    message = _manifest_error(tmp_path, ENTRY + "    colour: red\n")
    assert (
        "sources/manifest.yaml, row 3, column 'colour': entry 1 (id 'cloud_market_2023'): unknown key 'colour'; "
        "the keys are id, file, publisher, title_zh, title_en, published, reference, status, kind, measure, unit, "
        "layout, series, geography, segment, encoding, sheet, header_rows, columns, rows, dataset, url, note, "
        "accept_outliers"
    ) in message


def test_a_value_of_the_wrong_type_names_the_key_and_the_value(tmp_path: Path) -> None:
    message = _manifest_error(tmp_path, ENTRY + "    header_rows: two\n")
    assert "sources/manifest.yaml, row 3, column 'header_rows': entry 1 (id 'cloud_market_2023'): " in message
    assert "header_rows 'two' is not valid: Input should be a valid integer" in message


def test_a_missing_required_key_is_named_with_its_meaning(tmp_path: Path) -> None:
    entry = ENTRY.replace("    title_en: Cloud Computing White Paper (2023)\n", "")
    message = _manifest_error(tmp_path, entry)
    assert (
        "sources/manifest.yaml, row 3, column 'title_en': entry 1 (id 'cloud_market_2023'): "
        "missing required key 'title_en' (the table's title in English)"
    ) in message


def test_an_unknown_key_inside_an_outlier_acceptance_names_the_item(tmp_path: Path) -> None:
    entry = ENTRY + "    accept_outliers:\n      - {series: cloud_market, year: 2022, because: it is right}\n"
    message = _manifest_error(tmp_path, entry)
    assert "row 3, column 'accept_outliers'" in message
    assert "accept_outliers item 1: unknown key 'because'; the keys are series, year, reason, geography" in message
    assert "accept_outliers item 1: missing required key 'reason'" in message


def test_an_unknown_top_level_key_names_its_line(tmp_path: Path) -> None:
    sources = _sources(tmp_path, ENTRY)
    manifest = sources / "manifest.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + "version: 2\n", encoding="utf-8")
    with pytest.raises(SourceError) as info:
        load_manifest(sources)
    assert "sources/manifest.yaml, row 11, column 'version': unknown key 'version'; the keys are tables" in str(
        info.value
    )


def test_an_entry_file_names_the_line_of_the_key_at_fault(tmp_path: Path) -> None:
    sources = _sources(tmp_path, ENTRY)
    text = "\n".join(line[4:] for line in ENTRY.splitlines()) + "\nlayout: tall\nnotes: typo\n"
    problems = entry_file_problems(yaml.safe_load(text), text, sources, "entry.yaml")
    assert [str(p) for p in problems] == [
        "entry.yaml, row 9, column 'layout': layout 'tall' is not one of long, wide",
        "entry.yaml, row 10, column 'notes': unknown key 'notes'; the keys are " + ", ".join(TableSpec.model_fields),
    ]


def test_an_extra_column_in_the_assumptions_is_refused(sources_copy: Path, tmp_path: Path) -> None:
    path = sources_copy / "forecast_assumptions.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text(
        "\n".join([lines[0] + ",confidence", *(line + ",high" for line in lines[1:])]) + "\n", encoding="utf-8"
    )
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schemas(con)
    load_catalogs(con, sources_copy)
    ingest_table(con, next(s for s in load_manifest(sources_copy) if s.id == "forecast_assumptions"), sources_copy)
    with pytest.raises(SourceError) as info:
        read_assumptions(con, {"dc_market"}, {})
    message = str(info.value)
    assert "sources/forecast_assumptions.csv, row 1, column 'confidence': unknown column 'confidence'" in message
    assert "the columns are assumption_id, series_id, geography, segment, scenario, method, rate_pct" in message


def test_a_bad_quantity_in_the_series_catalogue_names_its_line(sources_copy: Path, tmp_path: Path) -> None:
    path = sources_copy / "series.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    fields = lines[3].split(",")
    assert fields[3] == "ratio"  # the row under test, as the file has it
    lines[3] = ",".join([*fields[:3], "weight", *fields[4:]])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SourceError) as info:
        load_catalogs(duckdb.connect(), sources_copy)
    assert [str(p) for p in info.value.problems] == [
        "sources/series.csv, row 4, column 'quantity': quantity 'weight' is not one of money, compute, operations, "
        "count, duration, share, growth, energy, carbon, ratio, training, chip, other"
    ]


def test_every_field_of_the_manifest_model_is_in_the_readme_table() -> None:
    readme = (PROJECT_ROOT / "sources" / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- manifest-keys:begin -->")[1].split("<!-- manifest-keys:end -->")[0]
    documented = re.findall(r"^\| `(\w+)` \| (yes)? \|", table, flags=re.MULTILINE)
    assert documented == [(name, "yes" if info.is_required() else "") for name, info in TableSpec.model_fields.items()]
    for name, info in TableSpec.model_fields.items():
        assert f"| `{name}` | {'yes' if info.is_required() else ''} | {info.description} |" in table
