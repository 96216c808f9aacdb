"""Charts declared as data (report_templates/charts/*.yaml): a wrong spec is refused naming its file, line and key;
a new spec is a chart asset whose upstream datasets are the ones it declares (where its rows come from);
spec charts are drawn so that greyscale print tells their series apart; docs/chart-specs.md is current."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from pipeline.config import PROJECT_ROOT
from pipeline.lib.errors import SourceError
from pipeline.lib.report.figures import FIGURES, SPECS
from pipeline.lib.report.figures.spec import load_specs

DOC = PROJECT_ROOT / "docs" / "chart-specs.md"


def _example(name: str) -> str:
    """A YAML block of docs/chart-specs.md, by the file name in the comment on its first line."""
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    return next(b for b in blocks if b.startswith(f"# {name}\n"))


def _refused(tmp_path: Path, text: str) -> list[str]:
    folder = tmp_path / "charts"
    folder.mkdir(exist_ok=True)
    (folder / "de_share.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        load_specs(folder)
    return [str(p) for p in caught.value.problems]


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


KEYS = "id, geography, segment, first_year, last_year, vintage, actuals, outlook, scenarios, label"
TYPES = "line, bar, grouped_bar, stacked_bar, projection_band, small_multiples"


@pytest.mark.parametrize(
    ("old", "new", "at", "key", "why"),
    [
        pytest.param(
            "    segment: total\n",
            "    segment: total\n    colour: red\n",
            "colour:",
            "series[1].colour",
            f"unknown key 'colour'; the keys are {KEYS}",
            id="unknown key",
        ),
        pytest.param(
            "digital_economy_gdp_share",
            "digital_economy_gdp_shares",
            "id: digital_economy_gdp_shares",
            "series[1].id",
            "unknown series 'digital_economy_gdp_shares': not in sources/series.csv",
            id="unknown series",
        ),
        pytest.param(
            "datasets: [caict_digital_economy_2023]",
            "datasets: [caict_digital_economy]",
            "datasets:",
            "datasets[1]",
            "unknown dataset 'caict_digital_economy': not a `dataset` or `id` of sources/manifest.yaml",
            id="unknown dataset",
        ),
        pytest.param(
            "type: line", "type: pie", "type: pie", "type", f"type 'pie' is not one of {TYPES}", id="wrong type"
        ),
        pytest.param(
            "    actuals: true\n",
            "    actuals: true\n    scenarios: [base]\n",
            "scenarios:",
            "series[1].scenarios",
            "a line chart draws no scenarios; use projection_band or small_multiples",
            id="scenarios on a line chart",
        ),
    ],
)
def test_a_wrong_spec_is_refused_with_file_line_and_key(
    tmp_path: Path, old: str, new: str, at: str, key: str, why: str
) -> None:
    text = _example("de_share.yaml").replace(old, new)
    assert _refused(tmp_path, text) == [f"charts/de_share.yaml, row {_line_of(text, at)}, column {key!r}: {why}"]


def test_a_new_spec_is_a_chart_asset_on_the_datasets_it_declares(
    tmp_path: Path, warehouse_con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.defs.report import assets

    folder = tmp_path / "charts"
    folder.mkdir()
    (folder / "de_share.yaml").write_text(_example("de_share.yaml"), encoding="utf-8")
    (figure,) = load_specs(folder)
    monkeypatch.setitem(FIGURES, figure.id, figure)
    spec = assets.chart_spec(figure.id)
    shown = warehouse_con.execute(
        "SELECT DISTINCT s.dataset FROM core.observations_latest o JOIN core.sources s USING (source_id) "
        "WHERE o.series_id = 'digital_economy_gdp_share' AND o.geography = 'CN' AND o.segment = 'total' "
        "AND NOT o.is_outlook"
    ).fetchall()
    outlook_only = warehouse_con.execute(
        "SELECT DISTINCT s.dataset FROM core.observations_latest o JOIN core.sources s USING (source_id) "
        "WHERE o.series_id = 'digital_economy_gdp_share' AND o.is_outlook"
    ).fetchall()
    assert spec.key.path == ["charts", "digital_economy_gdp_share"]
    assert set(figure.datasets) == {d for (d,) in shown}, "the worked example declares where its rows come from"
    assert {d.asset_key.to_user_string() for d in spec.deps} == {"core/series"} | {
        f"core/dataset/{d}" for d in figure.datasets
    }
    assert outlook_only and not {d for (d,) in outlook_only} & set(figure.datasets), "outlook rows not selected"
    assert figure.forecasts == ()
    data = figure.data(warehouse_con)
    years = [h["year"] for h in data.body["series"][0]["history"]]
    assert years == sorted(
        y
        for (y,) in warehouse_con.execute(
            "SELECT year FROM core.observations_latest WHERE series_id = 'digital_economy_gdp_share' "
            "AND geography = 'CN' AND segment = 'total' AND NOT is_outlook"
        ).fetchall()
    )
    for lang in ("zh", "en"):
        assert figure.draw(data, lang, tmp_path / f"{lang}.png").stat().st_size > 5_000
    assert figure.title("zh") != figure.title("en")


TWO_SERIES = """\
type: line
subject: de_two
description: Two series of one unit on one chart.
series:
  - id: digital_economy_gdp_share
    geography: CN
  - id: compute_share
    geography: CN
    label: {zh: 算力占全球比重, en: Share of global compute}
datasets: [caict_digital_economy_2023, fig09_global_compute_by_region]
labels:
  title: {zh: 两个比重, en: Two shares}
  axis: {zh: 比重（%）, en: Share (%)}
scale: {zh: "", en: ""}
"""


def test_spec_series_differ_without_colour(
    tmp_path: Path, warehouse_con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two series on one line chart: different line styles and markers, and each line's end names its series."""
    from pipeline.lib.report import style

    folder = tmp_path / "charts"
    folder.mkdir()
    (folder / "two.yaml").write_text(TWO_SERIES, encoding="utf-8")
    (figure,) = load_specs(folder)
    data = figure.data(warehouse_con)
    assert all(s["history"] for s in data.body["series"])
    figs: list = []
    monkeypatch.setattr(style, "save", lambda fig, path: (figs.append(fig), path)[1])
    figure.draw(data, "en", tmp_path / "two.png")
    ax = figs[0].axes[0]
    lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 1]
    assert len(lines) == 2
    assert len({str(ln.get_linestyle()) for ln in lines}) == 2
    assert len({ln.get_marker() for ln in lines}) == 2
    names = {t.get_text() for t in ax.texts}
    assert {"Share of global compute", data.body["series"][0]["name"]["en"]} <= names


def test_the_bundled_specs_are_the_former_modules() -> None:
    assert {"dc_energy", "nev_sales", "digital_economy"} <= set(SPECS)
    for fid in SPECS:
        assert not (PROJECT_ROOT / "pipeline" / "lib" / "report" / "figures" / f"{fid}.py").exists()


def test_the_format_doc_is_current() -> None:
    from pipeline.lib.report.figures.spec_model import keys_tables

    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- spec-keys:begin -->\n")[1].split("<!-- spec-keys:end -->")[0]
    assert block == keys_tables(), "docs/chart-specs.md is out of date: run scripts/chart_spec_docs.py"
