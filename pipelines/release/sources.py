"""The one table of sources the report names: a reader-facing name and a one-line description per
source id (the `source` of raw.api_responses and raw.landed_batches), in English and Chinese, and
which framework indicators each source feeds.

The report, both languages, never shows a bare id where a name exists; an id missing here is
shown as itself, so a new source is visible rather than silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The one counting rule for "responses used", applied by the release to raw.api_responses:
#: distinct requests (request_key) landed for the years of the edition (up to its year). A
#: request serving several years has a row per year in raw.api_responses; it counts once.
RESPONSES_RULE = "distinct requests landed for the edition's years"


@dataclass(frozen=True)
class Source:
    name: str
    name_zh: str
    description: str
    description_zh: str
    framework_prefix: str = ""  # how assets/framework.csv's `source` column starts for it


SOURCES: dict[str, Source] = {
    "gdelt": Source(
        "GDELT",
        "GDELT 全球事件数据库",
        "Worldwide online news monitored by the GDELT Project (DOC 2.0 API).",
        "GDELT 项目监测的全球网络新闻（DOC 2.0 接口）。",
        "GDELT",
    ),
    "wikimedia": Source(
        "Wikipedia page views",
        "维基百科浏览量",
        "Monthly page views of each city's article in many language editions (Wikimedia API).",
        "各语种维基百科城市条目的月浏览量（Wikimedia 接口）。",
        "Wikimedia",
    ),
    "wikidata": Source(
        "Wikidata",
        "维基数据",
        "The number of Wikipedia language editions with an article on the city.",
        "拥有该城市条目的维基百科语种数量。",
        "Wikidata",
    ),
    "worldbank": Source(
        "World Bank",
        "世界银行",
        "National GDP per capita in current US dollars (World Bank API).",
        "按现价美元计的全国人均 GDP（世界银行接口）。",
        "World Bank",
    ),
    "hackernews": Source(
        "Hacker News",
        "Hacker News",
        "Stories and comments on the technology forum Hacker News that mention the city.",
        "科技论坛 Hacker News 上提及该城市的帖子与评论。",
        "Hacker News",
    ),
    "stackexchange": Source(
        "Stack Exchange",
        "Stack Exchange",
        "Questions about the city on the Travel and Expatriates Q&A sites.",
        "Stack Exchange 旅行与外籍人士问答站上关于该城市的提问。",
        "Stack Exchange",
    ),
    "social": Source(
        "Social media accounts",
        "社交媒体账号",
        "Followers of the cities' official accounts on Bluesky and Mastodon.",
        "城市官方账号在 Bluesky 和 Mastodon 上的关注者。",
    ),
    "bluesky": Source(
        "Bluesky",
        "Bluesky",
        "Followers of the city's official Bluesky account.",
        "城市官方 Bluesky 账号的关注者。",
    ),
    "mastodon": Source(
        "Mastodon",
        "Mastodon",
        "Followers of the city's official Mastodon account.",
        "城市官方 Mastodon 账号的关注者。",
    ),
    "x": Source(
        "X (Twitter)", "X（推特）", "Posts on X mentioning the city.", "X 上提及该城市的帖子。"
    ),
    "curated": Source(
        "Curated statistics",
        "整理的统计资料",
        "Population (UN World Urbanization Prospects) and published city rankings, kept in "
        "the repository with their provenance.",
        "人口（联合国《世界城市化展望》）与已发布的城市排名，连同出处保存在代码库中。",
        "UN World Urbanization",
    ),
}


def source_name(source_id: str, lang: str = "en") -> str:
    source = SOURCES.get(source_id)
    if source is None:
        return source_id
    return source.name_zh if lang == "zh" else source.name


def source_description(source_id: str, lang: str = "en") -> str:
    source = SOURCES.get(source_id)
    if source is None:
        return ""
    return source.description_zh if lang == "zh" else source.description


def source_of_indicator(framework_source: str | None) -> str | None:
    """The source id behind a framework row, from the start of its `source` text."""
    text = (framework_source or "").strip()
    for source_id, source in SOURCES.items():
        if source.framework_prefix and text.startswith(source.framework_prefix):
            return source_id
    return None
