"""The text of the report in both languages, in one catalogue: every key holds its English and
its Chinese text side by side, so the two editions cannot drift apart (a key without both is a
test failure, see tests/test_report.py). Placeholders are `str.format` fields.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

LANGUAGES = {"en": "en", "zh": "zh-CN"}  # edition code -> html lang
REPORT_FILES = {"en": "report.html", "zh": "report.zh.html"}

MESSAGES: dict[str, tuple[str, str]] = {
    # masthead and navigation
    "title": ("City Influence Index {year}", "城市国际影响力指数 {year}"),
    "doc_title": (
        "City Influence Index {year} – edition {edition}",
        "城市国际影响力指数 {year}（第 {edition} 版）",
    ),
    "edition": ("Edition {edition}", "第 {edition} 版"),
    "generated": ("Generated", "生成于"),
    "code_version": ("Code version", "代码版本"),
    "other_language": ("中文版", "English edition"),
    "nav_findings": ("Key findings", "主要发现"),
    "nav_ranking": ("Ranking", "排名"),
    "nav_china": ("Chinese cities", "中国城市"),
    "nav_charts": ("Charts", "图表"),
    "nav_cities": ("City profiles", "城市概况"),
    "nav_method": ("How it is made", "编制方法"),
    "nav_sources": ("Sources", "数据来源"),
    "nav_files": ("Data files", "数据文件"),
    "contents": ("Contents", "目录"),
    "synthetic_banner": (
        "This edition contains synthetic data: {sources}.",
        "本版含有合成数据：{sources}。",
    ),
    "synthetic_banner_note": (
        "Figures for those sources are generated for demonstration and are not measurements.",
        "这些来源的数字为演示而生成，并非实测。",
    ),
    # findings and statements
    "findings": ("Key findings", "主要发现"),
    "top_three": ("Top three: {podium}.", "前三名：{podium}。"),
    "climb": (
        "Biggest significant climb: {city}, up {n} places to rank {rank}.",
        "显著上升最多：{city}，上升 {n} 位至第 {rank} 名。",
    ),
    "fall": (
        "Biggest significant fall: {city}, down {n} places to rank {rank}.",
        "显著下降最多：{city}，下降 {n} 位至第 {rank} 名。",
    ),
    "no_significant": (
        "No rank change this edition lies outside its rank interval; year-on-year moves are "
        "within the index's uncertainty.",
        "本版没有超出排名区间的名次变化；年度变动均在指数的不确定范围之内。",
    ),
    "newly_ranked": ("Newly ranked: {cities}.", "新进入排名：{cities}。"),
    "no_ranked": (
        "No city had enough data to be ranked in this edition.",
        "本版没有城市有足够数据参与排名。",
    ),
    "leader_world": (
        "{city} is first in the world for {code}{running}.",
        "{city}在{code}方面位居全球第一{running}。",
    ),
    "leader_china": (
        "{city} is first among Chinese cities for {code}{running}.",
        "{city}在{code}方面位居中国城市第一{running}。",
    ),
    "running": (", {years} years running", "，连续 {years} 年"),
    "rank_world": (
        "{city} is {world} in the world for {code}.",
        "{city}在{code}方面位居全球{world}。",
    ),
    "rank_world_china": (
        "{city} is {world} in the world and {china} among Chinese cities for {code}.",
        "{city}在{code}方面位居全球{world}、中国城市{china}。",
    ),
    "streak_world": (
        "{city} has been first in the world for {code} {years} years running.",
        "{city}在{code}方面已连续 {years} 年位居全球第一。",
    ),
    "streak_china": (
        "{city} has been first among Chinese cities for {code} {years} years running.",
        "{city}在{code}方面已连续 {years} 年位居中国城市第一。",
    ),
    "passed": (
        "In {code}, {city} passed {others} since last year.",
        "在{code}方面，{city}比上年超过了{others}。",
    ),
    "list_sep": (", ", "、"),
    # ranking
    "ranking": ("Ranking {year}", "{year} 年排名"),
    "ranking_lead": (
        "Scores run from 0 to 100. The rank interval shows where the city's rank falls in 90 % "
        "of the simulations that vary the method's choices; a change whose previous rank lies "
        "inside the interval is marked not significant. Tap a column header to sort; tap a "
        "city for its profile.",
        "得分范围为 0–100。排名区间表示在改变方法选择的模拟中，城市名次 90% 的落点范围；"
        "若上年名次落在区间内，则变化标为“不显著”。点击列标题排序；点击城市查看概况。",
    ),
    "col_rank": ("Rank", "名次"),
    "col_change": ("Change", "变化"),
    "col_city": ("City", "城市"),
    "col_country": ("Country", "国家/地区"),
    "col_score": ("Score", "得分"),
    "col_interval": ("Rank interval", "排名区间"),
    "col_significance": ("Significance", "显著性"),
    "new": ("new", "新进"),
    "no_change": ("no change", "无变化"),
    "significant": ("significant", "显著"),
    "not_significant": ("not significant", "不显著"),
    "insufficient": ("Insufficient data", "数据不足"),
    "insufficient_lead": (
        "These cities are in the registry but had too little data to be ranked.",
        "以下城市已登记，但数据过少，未参与排名。",
    ),
    "col_availability": ("Data availability", "数据完整度"),
    # Chinese cities
    "china_title": ("Chinese cities", "中国城市"),
    "china_lead": (
        "Mainland China, Hong Kong and Macau, ranked among themselves, with their place in "
        "the world beside it.",
        "中国内地、香港和澳门城市之间的排名，并列出其全球名次。",
    ),
    "col_national": ("Rank among Chinese cities", "国内名次"),
    "col_world": ("World rank", "全球名次"),
    "col_pillar_ranks": ("{pillar}: China / world", "{pillar}：国内/全球"),
    # charts
    "charts": ("Charts", "图表"),
    "chart_top": (
        "Top {n} cities: rank (dot) and the range of ranks in 90 % of the simulations (bar).",
        "前 {n} 名城市：名次（圆点）与 90% 模拟中的名次范围（横线）。",
    ),
    "chart_pillars": (
        "Pillar scores (0–100) of the top {n} cities.",
        "前 {n} 名城市的分项得分（0–100）。",
    ),
    "chart_movers": (
        "Largest rank gains and losses against {prev}; pale bars are moves inside the rank "
        "interval, which the index cannot tell apart from noise.",
        "与 {prev} 年相比名次升降最大的城市；浅色条表示变化在排名区间内，无法与噪声区分。",
    ),
    "chart_history": (
        "Rank of this edition's top {n} cities in every edition up to {year}.",
        "本版前 {n} 名城市在截至 {year} 年各版中的名次。",
    ),
    "axis_rank": ("Rank", "名次"),
    "axis_score": ("Score (0–100)", "得分（0–100）"),
    "axis_change": ("Change in rank (places)", "名次变化（位）"),
    "axis_year": ("Year", "年份"),
    "chart_empty": ("Nothing to show for this edition.", "本版无可显示内容。"),
    # profiles
    "profiles": ("City profiles", "城市概况"),
    "profile_rank": (
        "Rank {rank} of {n} with a score of {score} (rank interval {low}–{high}).",
        "在 {n} 个城市中排名第 {rank}，得分 {score}（排名区间 {low}–{high}）。",
    ),
    "profile_history": ("Rank in every edition", "历年名次"),
    "profile_scores": ("Pillars and indicators", "分项与指标"),
    "profile_moved": ("What moved since last year", "与上年相比的变化"),
    "profile_moved_item": (
        "{code}: score {change}, rank {rank_change}",
        "{code}：得分 {change}，名次 {rank_change}",
    ),
    "profile_no_previous": ("No previous edition to compare with.", "无上一版可比较。"),
    "profile_availability": (
        "Data availability: {share} of the indicators have a value.",
        "数据完整度：{share} 的指标有数值。",
    ),
    "col_indicator": ("Pillar / indicator", "分项/指标"),
    "col_rank_china": ("Rank among Chinese cities", "国内名次"),
    "col_rank_region": ("Rank in region", "地区内名次"),
    "col_value": ("Value", "原始值"),
    "col_unit": ("Unit", "单位"),
    "col_source": ("Source", "来源"),
    "synthetic": ("synthetic", "合成"),
    "real": ("real", "真实"),
    "imputed": ("imputed", "插补"),
    "back_to_ranking": ("Back to the ranking", "返回排名"),
    "year": ("Year", "年份"),
    # method
    "method": ("How the index is made", "指数编制方法"),
    "method_lead": (
        "Each indicator is checked for missing data, its extreme values are tempered, it is "
        "rescaled to 0–100 and combined with the weights below into three pillars and the "
        "index. Cities with too little data are not ranked. Ranks are by descending score; "
        "ties share the best rank.",
        "每个指标先检查缺失数据、缓和极端值，再换算到 0–100，并按下表权重合成三个分项和总指数。"
        "数据过少的城市不参与排名。按得分从高到低排名，并列者取较高名次。",
    ),
    "method_choices": ("Choices made for this edition", "本版的方法选择"),
    "col_weight": ("Weight", "权重"),
    "col_definition": ("Definition", "定义"),
    "col_direction": ("Direction", "方向"),
    "higher_better": ("higher is more influence", "越高影响力越大"),
    "lower_better": ("lower is more influence", "越低影响力越大"),
    "robustness": ("Statistical checks", "统计检验"),
    "alpha": (
        "Agreement of each pillar's indicators (Cronbach's alpha)",
        "分项内部一致性（克朗巴赫 α）",
    ),
    "external": ("Agreement with other city rankings", "与其他城市排名的一致性"),
    "col_benchmark": ("Ranking", "排名"),
    "col_cities": ("Cities", "城市数"),
    "col_alpha": ("Alpha", "α"),
    "col_pillar": ("Pillar", "分项"),
    # sources
    "sources": ("Sources", "数据来源"),
    "sources_lead": (
        "Responses used counts {rule}.",
        "“使用的响应数”按{rule}统计。",
    ),
    "responses_rule": (
        "distinct requests landed for the edition's years (a request that serves several "
        "years counts once)",
        "本版各年份已入库的不同请求数（服务多个年份的同一请求只计一次）",
    ),
    "col_description": ("Description", "说明"),
    "col_responses": ("Responses used", "使用的响应数"),
    "col_retrieved": ("Retrieved", "获取时间"),
    "col_data": ("Data", "数据"),
    "kinds_title": ("Kind of data per source and year", "各来源各年份的数据类型"),
    "no_data": ("no data", "无数据"),
    # files and validation
    "files": ("Data files of this release", "本版数据文件"),
    "files_lead": (
        "Everything in this folder; the links open the files next to this report.",
        "均在本文件夹中；链接指向与本报告同目录的文件。",
    ),
    "file_csv": ("The ranking as CSV (opens in Excel).", "排名（CSV，可用 Excel 打开）。"),
    "file_parquet": ("The ranking as Parquet.", "排名（Parquet 格式）。"),
    "file_duckdb": (
        "Every table of the edition as a DuckDB database.",
        "本版全部数据表（DuckDB 数据库）。",
    ),
    "file_manifest": (
        "Manifest: checksums, versions and every source response.",
        "清单：校验值、版本与全部来源响应。",
    ),
    "file_validation": ("Validation results page.", "数据校验结果页面。"),
    "file_other": ("This report in the other language.", "另一语言版本的本报告。"),
    "validation": ("Validation", "数据校验"),
    "validation_ok": ("All validation suites passed before release.", "发布前全部校验均已通过。"),
    "validation_failed": ("Some validation suites failed.", "部分校验未通过。"),
    "col_suite": ("Suite", "校验组"),
    "col_result": ("Result", "结果"),
    "col_evaluated": ("Checks", "检查项"),
    "col_failed": ("Failed", "未通过"),
    "pass": ("pass", "通过"),
    "fail": ("fail", "未通过"),
    "footer": (
        "City Influence Index {year}, edition {edition} · generated {generated} · code "
        "{code}. This file is self-contained and works offline.",
        "城市国际影响力指数 {year}，第 {edition} 版 · 生成于 {generated} · 代码 {code}。"
        "本文件独立完整，可离线阅读。",
    ),
    # method configuration, in plain words
    "cfg_treat": ("Extreme values", "极端值处理"),
    "cfg_impute": ("Missing values", "缺失值处理"),
    "cfg_normalise": ("Rescaling", "标准化"),
    "cfg_aggregate": ("Combining indicators", "指标合成"),
    "cfg_screen": ("Minimum data to be ranked", "参与排名的最低数据量"),
    "cfg_mc": ("Simulations for the rank interval", "排名区间的模拟次数"),
    "cfg_seed": ("Random seed (for reproducibility)", "随机种子（用于复现）"),
    "cfg_range": ("Score range", "得分范围"),
    # technical appendix
    "nav_checks": ("Checks", "检验"),
    "audit_title": ("Indicator audit", "指标审查"),
    "audit_lead": (
        "Before release, every indicator is checked among the ranked cities: an indicator with "
        "a value for fewer than 90 % of them, fewer than 5 distinct values, or one value shared "
        "by more than half of them stops the release. Softer findings are listed here.",
        "发布前，每个指标都在参与排名的城市中接受检查：有数值的城市少于 90%、不同数值少于 5 个，"
        "或同一数值为半数以上城市共有，均会阻止发布。较轻的问题列于此处。",
    ),
    "audit_none": (
        "No finding: every indicator and pillar passes the audit.",
        "无问题：所有指标与分项均通过审查。",
    ),
    "audit_defs": (
        "Skew and kurtosis are after tempering extreme values. A pillar's share of index "
        "variance is w·cov(pillar, index)/var(index).",
        "偏度与峰度为极端值处理之后的数值。分项对指数方差的贡献为 w·cov(分项, 指数)/var(指数)。",
    ),
    "sensitivity_title": ("Sensitivity of the ranks", "名次的敏感性"),
    "sensitivity_caption": (
        "First-order and total Sobol indices of the mean absolute rank shift, per assumption "
        "varied in the simulation. First order: the assumption alone; total: with its "
        "interactions.",
        "模拟中每项假设对平均名次变动的一阶与总 Sobol 指数。"
        "一阶：该假设单独的影响；总：含交互作用。",
    ),
    "coherence_title": ("Indicator coherence", "指标一致性"),
    "coherence_lead": (
        "Correlations between indicators within each pillar. Nearly redundant (|r| > 0.9) or "
        "negatively related pairs are flagged and listed first.",
        "各分项内部指标之间的相关系数。近乎重复（|r| > 0.9）或负相关的指标对会被标出并列在前面。",
    ),
    "alpha_defs": (
        "Values below 0.70 are highlighted: the pillar's indicators agree only weakly.",
        "低于 0.70 的数值被标出：该分项的指标之间一致性较弱。",
    ),
    "external_defs": (
        "Rank correlation between this index and independent city rankings over the cities "
        "both cover.",
        "本指数与独立城市排名在共同覆盖城市上的等级相关系数。",
    ),
    "not_computed": ("Not computed for this edition.", "本版未计算。"),
    "col_indicator_a": ("Indicator A", "指标 A"),
    "col_indicator_b": ("Indicator B", "指标 B"),
    "col_flag": ("Flag", "标记"),
    "col_status": ("Status", "状态"),
    # sensitivity
    "assumption_weights": ("Weights", "权重"),
    "assumption_treatment": ("Outlier treatment on/off", "极端值处理（开/关）"),
    "assumption_winsorisation_limit": ("Winsorisation limit", "缩尾界限"),
    "assumption_normalisation": (
        "Normalisation (min-max or z-score)",
        "标准化方法（最小-最大或 z 分数）",
    ),
    "assumption_aggregation": (
        "Aggregation (arithmetic or geometric)",
        "合成方法（算术或几何平均）",
    ),
    "sens_missing": (
        "The sensitivity analysis was not computed for this edition.",
        "本版未进行敏感性分析。",
    ),
    "sens_none": ("None of the assumptions tested moves the ranks.", "所检验的假设均不改变名次。"),
    "sens_top": (
        "{name} moves the ranks most: it accounts for {total} of the variance of the average "
        "rank shift including its interactions with the other assumptions ({alone}).",
        "{name}对名次影响最大：连同与其他假设的交互作用，它解释了平均名次变动方差的 {total}"
        "（{alone}）。",
    ),
    "sens_alone": ("{share} on its own", "单独解释 {share}"),
    "sens_little": ("little on its own", "单独影响很小"),
    "sens_title": (
        "Sensitivity of the ranks to each assumption (Sobol indices)",
        "名次对各项假设的敏感性（Sobol 指数）",
    ),
    "sens_first": ("First order (alone)", "一阶（单独）"),
    "sens_total": ("Total (with interactions)", "总（含交互）"),
    "sens_axis": (
        "Share of the variance of the mean absolute rank shift",
        "占平均绝对名次变动方差的比例",
    ),
}

#: Ordinals: "2nd" in English, "第2" in Chinese.
_SUFFIX = {1: "st", 2: "nd", 3: "rd"}


def ordinal(n: int, lang: str) -> str:
    if lang == "zh":
        return f"第{n}"
    suffix = "th" if 10 <= n % 100 <= 20 else _SUFFIX.get(n % 10, "th")
    return f"{n}{suffix}"


class Translator:
    """`t(key, **params)`: the catalogue's text for one language; params are escaped."""

    def __init__(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unknown report language {lang!r}: use one of {sorted(LANGUAGES)}")
        self.lang = lang
        self.index = 1 if lang == "zh" else 0

    def __call__(self, key: str, **params: Any) -> Markup:
        text = MESSAGES[key][self.index]
        safe = {k: v if isinstance(v, Markup) else escape(v) for k, v in params.items()}
        return Markup(escape(text).format(**safe)) if params else Markup(escape(text))

    def plain(self, key: str, **params: Any) -> str:
        return MESSAGES[key][self.index].format(**params)
