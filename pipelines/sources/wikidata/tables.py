"""The raw table Wikidata lands (one declaration: types, descriptions and rules)."""

from pipelines.sources.spec import RawRules, RawTable

SITELINKS = RawTable(
    "wikidata_sitelinks",
    "Wikidata sitelinks of each city's item (language Wikipedias only).",
    {
        "city_id": ("VARCHAR", "registry city id (assets/cities.csv)"),
        "qid": ("VARCHAR", "the city's Wikidata item (registry wikidata_qid)"),
        "site": ("VARCHAR", "the Wikipedia of the link, e.g. frwiki"),
        "title": ("VARCHAR", "the article title on that Wikipedia"),
    },
    # Not held to registry coverage: cities whose QID is unverified (assets/cities.md) have none.
    RawRules(keys=("city_id", "site")),
)
