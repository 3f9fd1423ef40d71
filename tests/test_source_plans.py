"""The plan of every source (``SourceSpec.plan``, what ``ingest --dry-run`` prints) holds the
requests a fetch really sends: counted from the HTTP layer's events during a snapshot fetch."""

from __future__ import annotations

from collections import Counter

import pytest

from pipelines.registry import load_cities
from pipelines.sources import catalog
from pipelines.sources.events import RequestEvent, listening
from pipelines.sources.wikidata import fetch_wikidata

YEAR = 2020


@pytest.fixture(scope="module")
def registry():
    return load_cities()


@pytest.fixture(scope="module")
def inputs(registry) -> dict[str, dict]:
    """What each fetch reads from the warehouse, as the ingest passes it."""
    sitelinks = fetch_wikidata(registry, YEAR).tables["wikidata_sitelinks"]
    return {"wikimedia": {"sitelinks": sitelinks}}


@pytest.mark.parametrize("name", sorted(catalog.SPECS))
def test_plan_counts_exactly_the_requests_a_snapshot_fetch_sends(
    name, registry, inputs, monkeypatch
):
    monkeypatch.delenv("CITY_INDEX_MODE", raising=False)
    monkeypatch.delenv("X_BEARER_TOKEN", raising=False)
    spec = catalog.SPECS[name]
    assert spec.plan is not None, f"{name} has no plan"
    planned = spec.plan(registry, YEAR, **inputs.get(name, {}))
    sent: Counter[str] = Counter()

    def count(event: RequestEvent) -> None:
        sent[event.source] += 1

    with listening(count):
        spec.fetch(registry, YEAR, **inputs.get(name, {}))
    assert {p.client: p.requests for p in planned if p.requests} == dict(sent)
    assert all(not p.estimate for p in planned)  # every shipped request shape is exact
    assert all(p.min_interval >= 0 for p in planned)


def test_plans_of_the_media_sources_are_not_empty(registry, inputs):
    """Guard against a plan that agrees with a fetch only because both send nothing."""
    for name in ("gdelt", "wikimedia", "wikidata", "worldbank", "hackernews", "stackexchange"):
        spec = catalog.SPECS[name]
        [planned] = spec.plan(registry, YEAR, **inputs.get(name, {}))
        assert planned.requests > 0, name
    [gdelt] = catalog.SPECS["gdelt"].plan(registry, YEAR)
    assert gdelt.requests == 3 * registry.height and gdelt.min_interval == 5.0


def test_x_plan_is_an_estimate_only_with_a_token(registry):
    from pipelines.sources.social import plan_social

    assert all(p.client != "x" for p in plan_social(registry, 2020, environ={}))
    [x] = [
        p for p in plan_social(registry, 2020, environ={"X_BEARER_TOKEN": "t"}) if p.client == "x"
    ]
    assert x.requests == 12 * registry.height and "paginated" in x.estimate
