"""The raw tables of official-account followers and X counts (types, descriptions and rules)."""

from pipelines.sources.spec import COUNT, Range, RawRules, RawTable

CITY = ("VARCHAR", "registry city id (assets/cities.csv)")

FOLLOWERS = RawTable(
    "social_followers",
    "Follower counts of official city accounts (Bluesky getProfile, Mastodon accounts/lookup) "
    "as snapshots of the run (observed_at); only registry handles, and a missing account has "
    "no row (missing, never zero).",
    {
        "city_id": CITY,
        "platform": ("VARCHAR", "bluesky or mastodon"),
        "account": ("VARCHAR", "the registry handle (bluesky_handle, mastodon_account)"),
        "followers": ("BIGINT", "followers at observed_at"),
        "observed_at": ("TIMESTAMP", "UTC retrieval time of the profile (the snapshot)"),
    },
    RawRules(
        keys=("city_id", "platform", "account"),
        ranges={"followers": Range(0, 1_000_000_000, f"{COUNT}; no account has 1 G")},
        allowed={"platform": ("bluesky", "mastodon")},
    ),
)
X_POST_COUNTS = RawTable(
    "x_post_counts",
    "Opt-in, paid (X_BEARER_TOKEN): yearly X post totals per city, no post content.",
    {
        "city_id": CITY,
        "period_year": ("INTEGER", "the year counted (the partition year, complete years only)"),
        "query": ("VARCHAR", "the X search query (variants OR-ed, -exclusions, -is:retweet)"),
        "total": ("BIGINT", "sum of meta.total_tweet_count over every page"),
    },
    RawRules(
        keys=("city_id", "period_year"),
        ranges={"total": Range(0, None, COUNT)},
        years_equal=("period_year",),
    ),
)
