"""Numbers quoted in the seed report's text (KPMG China, 普惠算力 开启新计算时代, July 2023) must reach the warehouse.

Each case below was typed from reading the seed (shared/seed/000_01d3ad3d5e2588cd.txt), not read back from the
source tables: (series_id, geography, segment, year, value as written, unit as written). A range is a
(low, high) tuple and is compared at its midpoint; qualifiers such as 约 / 超 / 以上 are dropped. The test converts
each to the warehouse's canonical unit with its own small table (independent of pipeline/lib/ingest/units.py) and
compares with `core.observations` (latest vintage), allowing a 0.5% relative difference.
"""

from __future__ import annotations

import pytest

# --- this test's own conversion table -------------------------------------------------------------------
SCALES = {"": 1.0, "万": 1e4, "亿": 1e8, "万亿": 1e12}
# CNY per unit of foreign currency by year, typed from the publications (not from sources/): USD from the NBS
# yearbook's annual-average central parity (人民币汇率年平均价) and the 2023 communiqué; EUR and JPY from the ECB's
# annual-average euro reference rates (CNY per EUR, JPY per EUR), the yen crossed through the euro.
CNY_PER_EUR = {2020: 7.8747, 2021: 7.6282, 2022: 7.0788}
JPY_PER_EUR = {2020: 121.85, 2021: 129.88, 2022: 138.03}
CNY_PER_UNIT = {
    "元": {},
    "美元": {1985: 2.9366, 2020: 6.8976, 2021: 6.4515, 2022: 6.7261, 2023: 7.0467},
    "欧元": CNY_PER_EUR,
    "日元": {y: CNY_PER_EUR[y] / JPY_PER_EUR[y] for y in CNY_PER_EUR},
}
FLOPS_TO_EFLOPS = {
    "FLOPS": 1e-18,
    "GFLOPS": 1e-9,
    "TFLOPS": 1e-6,
    "PFLOPS": 1e-3,
    "EFLOPS": 1.0,
    "ZFLOPS": 1e3,
}
COUNT_WORDS = ("个", "台", "辆", "人", "所", "张", "颗", "家")
SAME = {"次/秒": 1.0, "%": 1.0, "倍": 1.0, "年": 1.0, "月": 1 / 12, "PF-days": 1.0, "TOPS": 1.0}


def _split_scale(unit: str, words: tuple[str, ...]) -> tuple[float, str] | None:
    for word in sorted(words, key=len, reverse=True):
        if unit.endswith(word) and unit[: -len(word)] in SCALES:
            return SCALES[unit[: -len(word)]], word
    return None


def to_canonical(value: float, unit: str, year: int | None = None) -> float:
    """Money → CNY, compute → EFLOPS, counts → count, 月 → years, energy → kWh, carbon → t; % and 倍 stay."""
    if unit in SAME:
        return value * SAME[unit]
    if unit in FLOPS_TO_EFLOPS:
        return value * FLOPS_TO_EFLOPS[unit]
    for words, per_word in (
        (tuple(CNY_PER_UNIT), CNY_PER_UNIT),
        (("千瓦时",), None),
        (("吨",), None),
        (COUNT_WORDS, None),
    ):
        hit = _split_scale(unit, words)
        if hit:
            scale, word = hit
            if per_word is CNY_PER_UNIT and word != "元":
                return value * scale * per_word[word][year]
            return value * scale
    raise ValueError(f"test has no conversion for unit {unit!r}")


def midpoint(value: float | tuple[float, float]) -> float:
    return (value[0] + value[1]) / 2 if isinstance(value, tuple) else float(value)


# --- numbers quoted in the seed's text --------------------------------------------------------------------
# (series_id, geography, segment, year, value as written, unit as written)
SEED_NUMBERS: list[tuple[str, str, str, int, float | tuple[float, float], str]] = [
    # 01 顺势: ChatGPT, GPTs are GPTs, ENIAC vs Frontier, the 1980s AI boom
    ("time_to_100m_users", "GLOBAL", "chatgpt", 2023, 2, "月"),  # 仅用两个月就实现了月活用户数量破亿
    ("llm_labour_exposure_share", "US", "workers_10pct_tasks", 2023, 80, "%"),
    ("llm_labour_exposure_share", "US", "workers_50pct_tasks", 2023, 19, "%"),
    ("llm_task_speedup_share", "US", "llm_only", 2023, 15, "%"),
    ("llm_task_speedup_share", "US", "llm_with_software", 2023, (47, 56), "%"),
    ("computer_operations_rate", "US", "eniac", 1946, 5000, "次/秒"),  # additions per second, not FLOPS
    ("computer_performance", "US", "frontier", 2023, 1.194, "EFLOPS"),  # 1.194Exaflop
    ("ai_corporate_investment_cumulative", "GLOBAL", "total", 1985, 10, "亿美元"),  # 十亿美元以上
    ("quantum_computer_qubits_plan", "US", "ibm", 2023, 10, "万个"),  # 10万个量子比特
    # 02 明义: digital economy, AI training compute, GPT-3, per-capita compute, PUE
    ("compute_scale_avg_growth", "GLOBAL", "total", 2021, 34, "%"),
    ("digital_economy_avg_growth", "GLOBAL", "total", 2021, 8, "%"),
    ("gdp_avg_growth", "GLOBAL", "total", 2021, 4, "%"),
    ("digital_economy_outgrowth_streak", "CN", "total", 2022, 11, "年"),
    ("digital_economy_size_usd", "US", "total", 2021, 15.3, "万亿美元"),
    ("digital_economy_size_usd", "CN", "total", 2021, 7.1, "万亿美元"),
    ("ai_training_compute_doubling_time", "GLOBAL", "era_pre_dl", 1956, 20, "月"),
    ("ai_training_compute_doubling_time", "GLOBAL", "era_dl", 2006, 6, "月"),
    ("ai_training_compute_doubling_time", "GLOBAL", "era_large_model", 2012, (3, 4), "月"),
    ("ai_training_compute_growth_multiple", "GLOBAL", "era_large_model", 2012, 10, "倍"),
    ("llm_training_compute_demand_multiple", "GLOBAL", "total", 2023, (10, 100), "倍"),
    ("model_training_gpus", "GLOBAL", "gpt3", 2020, 1, "万颗"),  # 至少要上万颗英伟达GPU A100
    ("model_training_compute", "GLOBAL", "gpt3", 2020, 3640, "PF-days"),
    ("model_training_cost", "GLOBAL", "gpt3", 2020, 1200, "万美元"),
    ("per_capita_compute", "GLOBAL", "today", 2020, (100, 2500), "GFLOPS"),
    ("per_capita_compute", "GLOBAL", "agi_scenario", 2020, 29, "TFLOPS"),
    ("dc_pue_target", "CN", "new_large_dc", 2023, 1.3, "倍"),
    ("dc_pue_target", "CN", "new_large_dc_cold", 2023, 1.25, "倍"),
    # 03 有为: national strategies, 东数西算, intelligent compute, DC investment, NEV, digital economy
    ("us_chips_act_allocation", "US", "manufacturing_incentives", 2022, 390, "亿美元"),
    ("us_chips_act_allocation", "US", "rd_subsidy", 2022, 110, "亿美元"),
    ("us_chips_act_allocation", "US", "auto_defence_chips", 2022, 20, "亿美元"),
    ("us_chips_act_allocation", "US", "supply_chain", 2022, 5, "亿美元"),
    ("us_chips_act_allocation", "US", "workforce", 2022, 2, "亿美元"),
    ("eu_semiconductor_share_target", "EU", "total", 2030, 20, "%"),
    ("eu_semiconductor_efficiency_target", "EU", "total", 2030, 10, "倍"),
    ("eu_enterprise_cloud_ai_target", "EU", "total", 2030, 75, "%"),
    ("eurohpc_investment", "EU", "total", 2020, 80, "亿欧元"),
    ("jp_green_innovation_fund", "JP", "total", 2021, 2, "万亿日元"),
    ("jp_semiconductor_subsidy", "JP", "tsmc_kumamoto", 2021, 6000, "亿日元"),
    ("jp_rapidus_private_investment", "JP", "total", 2022, 73, "亿日元"),
    ("jp_semiconductor_subsidy", "JP", "rapidus", 2022, 700, "亿日元"),
    ("edwc_hubs", "CN", "total", 2022, 8, "个"),
    ("edwc_new_dc_projects", "CN", "total", 2022, 60, "个"),
    ("edwc_new_racks", "CN", "total", 2022, 110, "万个"),  # 超110万标准机架
    ("ai_computing_centres", "CN", "total", 2023, 23, "个"),
    ("compute_scale_avg_growth", "CN", "intelligent", 2026, 52.3, "%"),
    ("dc_investment_growth", "CN", "total", 2025, 20, "%"),
    ("dc_investment_driven_cumulative", "CN", "total", 2025, 3, "万亿元"),
    ("dc_cloud_ai_market_combined", "CN", "total", 2025, 2.5, "万亿元"),
    ("nev_sales", "CN", "total", 2022, 688.7, "万辆"),
    ("nev_sales_share", "CN", "total", 2022, 25.6, "%"),
    ("nev_sales_share", "CN", "total", 2025, 30, "%"),
    ("nev_sales_growth", "CN", "total", 2025, 50, "%"),
    ("nev_sales", "CN", "total", 2025, 2300, "万辆"),
    ("digital_economy_size", "CN", "total", 2022, 50.2, "万亿元"),
    # 04 识局: figure 14, industries
    ("compute_service_servers", "CN", "new_it.total", 2022, 200, "万台"),
    ("compute_service_servers", "CN", "cloud.alibaba", 2022, (200, 300), "万台"),
    ("compute_service_servers", "CN", "cloud.tencent", 2022, (100, 200), "万台"),
    ("compute_service_servers", "CN", "cloud.bytedance", 2022, 100, "万台"),
    ("compute_service_servers", "CN", "cloud.baidu", 2022, (60, 80), "万台"),
    ("compute_service_servers", "CN", "cloud.huawei", 2022, 100, "万台"),
    ("compute_service_servers", "CN", "network.china_mobile", 2022, 71, "万台"),
    ("compute_service_servers", "CN", "network.china_telecom", 2022, (100, 200), "万台"),
    ("compute_service_servers", "CN", "network.china_unicom", 2022, 50, "万台"),
    ("compute_service_racks", "CN", "network.china_mobile", 2022, 46.7, "万个"),
    ("compute_service_racks", "CN", "network.china_telecom", 2022, 51.3, "万个"),
    ("compute_service_racks", "CN", "network.china_unicom", 2022, 36.3, "万个"),
    ("auto_top_rank_streak", "CN", "total", 2022, 14, "年"),
    ("autonomous_driving_chip_compute", "GLOBAL", "l2", 2023, 2, "TOPS"),
    ("autonomous_driving_chip_compute", "GLOBAL", "l3", 2023, 24, "TOPS"),
    ("autonomous_driving_chip_compute", "GLOBAL", "l4", 2023, 320, "TOPS"),
    ("autonomous_driving_chip_compute", "GLOBAL", "l5", 2023, 4000, "TOPS"),
    ("bank_fintech_investment", "CN", "state_bank_each", 2022, 100, "亿元"),  # 均超百亿元
    ("bank_fintech_investment", "CN", "icbc", 2022, 262.24, "亿元"),
    ("bank_fintech_investment_growth", "CN", "joint_stock_banks", 2022, 20, "%"),
    ("univ_survey_respondents", "CN", "total", 2022, 1998, "所"),
    ("univ_compute_survey_share", "CN", "no_campus_platform", 2022, 91.6, "%"),
    ("univ_compute_survey_share", "CN", "external_compute_used", 2022, 6.8, "%"),
    ("univ_compute_survey_share", "CN", "external_compute_unused", 2022, 40.8, "%"),
    ("univ_compute_survey_share", "CN", "external_compute_unsure", 2022, 52.4, "%"),
    ("internet_healthcare_penetration", "CN", "total", 2022, 34.0, "%"),
    ("internet_healthcare_penetration", "CN", "rural", 2022, 21.5, "%"),
    # 05 应变: manufacturing plan, car R&D cycle, university HPC, education carbon
    ("smart_mfg_pilot_effect", "CN", "productivity_gain", 2021, 45, "%"),
    ("smart_mfg_pilot_effect", "CN", "rd_cycle_reduction", 2021, 35, "%"),
    ("smart_mfg_pilot_effect", "CN", "defect_rate_reduction", 2021, 35, "%"),
    ("vehicle_rd_cycle", "GLOBAL", "previous", 2023, (5, 7), "年"),
    ("vehicle_rd_cycle", "GLOBAL", "current", 2023, (2, 3), "年"),
    ("univ_hpc_typical_scale", "CN", "nodes", 2023, 100, "个"),  # 百节点
    ("univ_hpc_typical_scale", "CN", "cores", 2023, 1, "万个"),  # 万核心
    ("univ_hpc_utilisation", "CN", "total", 2023, 80, "%"),
    ("top500_cn_universities", "CN", "total", 2022, 4, "所"),
    ("education_carbon_emissions", "CN", "education", 2017, 2.46, "亿吨"),
    ("education_carbon_share", "CN", "education", 2017, 2.5, "%"),
    # 06 筹谋: digital economy outlook, large models, energy and carbon
    ("population", "CN", "total", 2023, 14, "亿人"),
    ("digital_economy_avg_growth", "CN", "total", 2025, 15, "%"),
    ("digital_economy_size", "CN", "total", 2025, 80, "万亿元"),
    ("digital_economy_gdp_share", "CN", "total", 2025, 55, "%"),
    ("digital_economy_size", "CN", "total", 2030, 100, "万亿元"),  # 突破百万亿元
    ("llm_parameters", "CN", "wudao_2", 2021, 1.75, "万亿个"),
    ("llm_parameters", "CN", "ernie_bot", 2023, 2600, "亿个"),
    ("llm_teams", "CN", "total", 2023, 10, "个"),
    ("leading_llm_team_gpus", "GLOBAL", "h100", 2023, 1, "万张"),
    ("leading_llm_team_gpus", "GLOBAL", "a100_equivalent", 2023, 10, "万张"),
    ("computer_energy_use_share", "GLOBAL", "state_maintenance", 2022, 80, "%"),
    ("computer_energy_use_share", "GLOBAL", "computation", 2022, 20, "%"),
    ("dc_energy_consumption", "CN", "total", 2020, 939, "亿千瓦时"),
    ("dc_carbon_emissions", "CN", "total", 2020, 6464, "万吨"),
    ("dc_energy_consumption", "CN", "total", 2030, 3800, "亿千瓦时"),
    ("dc_carbon_emissions_growth", "CN", "total", 2030, 300, "%"),
]

QUERY = (
    "SELECT value FROM core.observations WHERE series_id = ? AND geography = ? AND segment = ? AND year = ? "
    "ORDER BY vintage DESC LIMIT 1"
)


def test_seed_numbers_list_is_sound() -> None:
    keys = [case[:4] for case in SEED_NUMBERS]
    assert len(SEED_NUMBERS) >= 70
    assert len(keys) == len(set(keys)), "a (series, geography, segment, year) appears twice in SEED_NUMBERS"
    for *_, year, value, unit in SEED_NUMBERS:
        to_canonical(midpoint(value), unit, year)  # every unit is convertible


def test_conversion_table() -> None:
    assert to_canonical(527, "亿美元", 2022) == pytest.approx(527e8 * 6.7261)
    assert to_canonical(7.1, "万亿美元", 2021) == pytest.approx(7.1e12 * 6.4515)
    assert to_canonical(430, "亿欧元", 2022) == pytest.approx(430e8 * 7.0788)
    assert to_canonical(7, "万亿日元", 2022) == pytest.approx(7e12 * 7.0788 / 138.03)
    assert to_canonical(688.7, "万辆") == pytest.approx(6_887_000)
    assert to_canonical(100, "GFLOPS") == pytest.approx(1e-7)
    assert to_canonical(6, "月") == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("series_id", "geography", "segment", "year", "value", "unit"),
    SEED_NUMBERS,
    ids=[f"{s}|{g}|{seg}|{y}" for s, g, seg, y, *_ in SEED_NUMBERS],
)
def test_seed_number_in_warehouse(
    warehouse_con,
    series_id: str,
    geography: str,
    segment: str,
    year: int,
    value: float | tuple[float, float],
    unit: str,
) -> None:
    expected = to_canonical(midpoint(value), unit, year)
    row = warehouse_con.execute(QUERY, [series_id, geography, segment, year]).fetchone()
    assert row is not None, f"{series_id} {geography}/{segment} {year}: not in core.observations"
    actual = row[0]
    assert actual is not None, f"{series_id} {geography}/{segment} {year}: value is NULL"
    rel = abs(actual - expected) / abs(expected)
    assert rel < 0.005, (
        f"{series_id} {geography}/{segment} {year}: warehouse {actual:.6g} vs seed {value} {unit} "
        f"= {expected:.6g} (relative difference {rel:.2%})"
    )
