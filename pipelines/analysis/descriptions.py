"""What each `analysis` table and its columns mean: the one place the release file's comments
(`COMMENT ON`) and the analysts' guide take them from. The tables are written by
`pipelines.analysis.assets` (one year replaced whole per run)."""

from __future__ import annotations

from pipelines.release.descriptions import TableDescription

ANALYSIS_DESCRIPTIONS: dict[str, TableDescription] = {
    "uncertainty": TableDescription(
        "Rank intervals per city and year from seeded Monte Carlo replications of the method's "
        "assumptions (weights, outlier treatment, normalisation, aggregation).",
        {
            "rank": "The published rank of the city in the year.",
            "median_rank": "Median rank over the Monte Carlo replications.",
            "rank_p05": "5th percentile of the replicated ranks (best end of the 90 % interval).",
            "rank_p95": "95th percentile of the replicated ranks (worst end of the 90 % interval).",
            "change_significant": (
                "True when last year's rank lies outside this year's 90 % rank interval."
            ),
        },
    ),
    "audit": TableDescription(
        "The statistical audit of each year's indicators and pillars (in the spirit of the "
        "JRC's audits): blocking rules stop a release, softer findings are flagged notes.",
        {
            "kind": "indicator or pillar.",
            "code": "The indicator's or pillar's code in the framework.",
            "parent": "The pillar of an indicator (the index for a pillar).",
            "n_ranked": "Ranked cities in the year.",
            "n_present": "Ranked cities with a value for the indicator.",
            "coverage": "n_present / n_ranked; below 0.9 blocks the release.",
            "distinct_values": "Distinct values among the ranked cities; below 5 blocks.",
            "modal_value": "The most common value.",
            "modal_share": "Share of cities with the modal value; above 0.5 blocks.",
            "skew_treated": "Sample skewness after outlier treatment.",
            "kurt_treated": "Excess kurtosis after outlier treatment.",
            "r_pillar": "Pearson correlation of the indicator with its pillar's score.",
            "r_index": "Pearson correlation with the index score.",
            "cronbach_alpha": "Cronbach's alpha of the pillar's indicators (negative: flagged).",
            "pc1_variance_share": "Share of the pillar's variance on its first principal "
            "component.",
            "weight_share": "The pillar's nominal weight in the index.",
            "index_variance_share": "The pillar's share of the index variance (flagged when "
            "well below its weight).",
            "status": "pass, flag (published note) or block (stops the release).",
            "findings": "Plain-language sentences for each flag or blocking rule.",
        },
    ),
    "sensitivity": TableDescription(
        "Sobol sensitivity indices: how much of the rank shifts each assumption explains.",
        {
            "assumption": "The methodological choice varied (weights, treatment, ...).",
            "first_order": "First-order Sobol index: share of rank variance from it alone.",
            "total_order": "Total-order Sobol index: share including interactions with others.",
        },
    ),
    "coherence": TableDescription(
        "Pearson correlations between the indicators of each pillar, with a flag for pairs "
        "that are too high (redundant) or negative (pulling apart).",
        {
            "pillar": "Pillar code (a child of the index in marts.framework).",
            "icode_a": "First indicator code of the pair.",
            "icode_b": "Second indicator code of the pair.",
            "pearson_r": "Pearson correlation of the two indicators over the ranked cities.",
            "flag": "high, negative or ok.",
        },
    ),
    "pillar_alpha": TableDescription(
        "Cronbach's alpha per pillar: internal consistency of the pillar's indicators.",
        {
            "pillar": "Pillar code (a child of the index in marts.framework).",
            "cronbach_alpha": "Cronbach's alpha of the pillar's normalised indicators.",
            "n_indicators": "Number of indicators in the pillar.",
        },
    ),
    "external_validation": TableDescription(
        "Spearman rank correlation of the index with published benchmarks (e.g. GaWC 2020).",
        {
            "benchmark": "Name of the external benchmark.",
            "n_units": "Cities present in both the index and the benchmark.",
            "spearman_rho": "Spearman rank correlation between index score and benchmark.",
            "p_value": "Two-sided p-value of the Spearman correlation.",
        },
    ),
}
