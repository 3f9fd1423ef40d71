"""The release's validation page: every expectation with its status, failing rows, nothing fetched.

The page is rendered from real GX checkpoint results (frames from `tests/test_validation.py`).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipelines.validation.docs import LOCAL_PATH_MARK, render_validation_page
from pipelines.validation.gate import (
    REPO_ROOT,
    CheckpointResult,
    ExpectationFailure,
    ExpectationOutcome,
    SuiteResult,
    run_checkpoint,
)
from pipelines.validation.suites import default_parameters, suite_document
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.test_validation import PILLARS, YEAR, good_frames, index_scores, indicators


class PageParser(HTMLParser):
    """Collects expectation rows, failing-row cells, suite sections and every URL-bearing attr."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []  # one per expectation: suite, type, status
        self.urls: list[str] = []  # src, href, action, poster, srcset values
        self.sample_cells: list[str] = []
        self.suite = ""
        self._in_sample = 0
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name in ("src", "href", "action", "poster", "srcset", "data", "background"):
            if a.get(name) is not None:
                self.urls.append(str(a[name]))
        if tag == "section" and "data-suite" in a:
            self.suite = str(a["data-suite"])
        if tag == "tr" and "data-expectation" in a:
            self.rows.append(
                {"suite": self.suite, "type": a["data-expectation"], "status": a["data-status"]}
            )
        if tag == "table" and "data-failing-rows" in a:
            self._in_sample += 1
        if tag == "td" and self._in_sample:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._in_sample:
            self._in_sample -= 1
        if tag == "td" and self._cell is not None:
            self.sample_cells.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser


def assert_self_contained(html: str, *local: Path) -> None:
    """No URL that leaves the file, no way to import one, no absolute path of this machine."""
    page = parse(html)
    assert all(u.startswith(("#", "data:")) for u in page.urls), page.urls
    assert not re.search(r"https?://", html)
    assert "@import" not in html and "url(" not in html
    for path in (*local, REPO_ROOT, Path.home()):
        for spelled in {str(path), str(Path(path).resolve())}:
            assert spelled not in html, spelled


@pytest.fixture(scope="module")
def params() -> dict[str, Any]:
    return default_parameters(YEAR, pillars=PILLARS, max_rank_change=5)


@pytest.fixture(scope="module")
def passing(tmp_path_factory: pytest.TempPathFactory, params: dict[str, Any]) -> tuple:
    base = tmp_path_factory.mktemp("docs_pass")
    result = run_checkpoint(f"edition_{YEAR}", good_frames(), params, base / "gx", base / "docs")
    return result, base


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory, params: dict[str, Any]) -> tuple:
    base = tmp_path_factory.mktemp("docs_fail")
    frames = good_frames()
    frames["index_scores"] = index_scores().with_columns(
        score=pl.when(pl.col("city_id") == "b").then(101.5).otherwise(pl.col("score"))
    )
    frames["indicators"] = indicators().drop("normalised_value")
    partial = {k: v for k, v in params.items() if k != "weight_sum_tolerance"}
    result = run_checkpoint(f"edition_{YEAR}", frames, partial, base / "gx", base / "docs")
    return result, base


def declared(key: str) -> list[str]:
    parameters = default_parameters(YEAR, pillars=PILLARS)
    return [e["type"] for e in suite_document(key.split("@", 1)[0], parameters)["expectations"]]


def test_passing_page_lists_every_expectation_as_passed(passing: tuple) -> None:
    result, base = passing
    assert result.success and result.docs_index == base / "docs" / "index.html"
    html = result.docs_index.read_text(encoding="utf-8")
    page = parse(html)
    for key in good_frames():
        got = [r["type"] for r in page.rows if r["suite"] == key]
        assert sorted(got) == sorted(declared(key)), key
    assert {r["status"] for r in page.rows} == {"pass"}
    assert 'data-verdict="pass"' in html and page.sample_cells == []
    assert sorted((base / "docs").iterdir()) == [base / "docs" / "index.html"]
    assert_self_contained(html, base)


def test_failing_page_shows_status_parameters_and_failing_rows(failing: tuple) -> None:
    result, base = failing
    assert not result.success
    html = result.docs_index.read_text(encoding="utf-8")
    page = parse(html)
    assert 'data-verdict="fail"' in html
    scores = {(r["type"], r["status"]) for r in page.rows if r["suite"] == "index_scores"}
    assert ("expect_column_values_to_be_between", "fail") in scores
    assert len([r for r in page.rows if r["suite"] == "index_scores"]) == len(
        declared("index_scores")
    )
    assert [r["status"] for r in page.rows if r["suite"] == "index_scores"].count("fail") == 1
    # the two failing rows: city b at both levels, with the value and the expectation's bounds
    assert page.sample_cells.count("101.5") == 2
    assert {"INDEX", "media"} <= set(page.sample_cells) and "b" in page.sample_cells
    assert "scores lie in the method&#39;s score range at every level" in html
    assert "2 of 6 rows unexpected" in html
    assert re.search(r"<dt>max_value</dt><dd[^>]*>100\.0</dd>", html)
    # a missing column: GX's exception is a failure of that expectation, named on the page
    indicator_rows = [r for r in page.rows if r["suite"] == "indicators"]
    assert ("expect_table_columns_to_match_set", "fail") in {
        (r["type"], r["status"]) for r in indicator_rows
    }
    assert "normalised_value" in html and "GX raised an exception" in html
    # a suite GX never ran (a parameter missing) still lists what it checks, as not run
    weights = [r for r in page.rows if r["suite"] == "index_weights"]
    assert [r["type"] for r in weights] == declared("index_weights")
    assert {r["status"] for r in weights} == {"not run"}
    assert "suite parameters not supplied: weight_sum_tolerance" in html
    passed = [r for r in page.rows if r["suite"] == "index_ranking"]
    assert passed and {r["status"] for r in passed} == {"pass"}
    assert_self_contained(html, base)


def test_same_results_give_the_same_page(
    passing: tuple, params: dict[str, Any], tmp_path: Path
) -> None:
    first, _ = passing
    again = run_checkpoint(f"edition_{YEAR}", good_frames(), params, tmp_path / "gx", tmp_path)
    assert again.docs_index is not None and first.docs_index is not None
    assert again.docs_index.read_bytes() == first.docs_index.read_bytes()


def test_local_paths_in_messages_are_hidden(tmp_path: Path, params: dict[str, Any]) -> None:
    leaked = tmp_path / "gx" / "frames" / "edition_2025" / "index_scores.parquet"
    failure = ExpectationFailure(
        "gx_engine", None, {}, [], f"GX raised OSError: cannot open {leaked}: denied"
    )
    result = CheckpointResult(False, [SuiteResult("index_scores", False, 0, [failure])], None)
    html = render_validation_page(result, params, local_paths=[tmp_path])
    assert f"cannot open {LOCAL_PATH_MARK}: denied" in html.replace("&lt;", "<").replace(
        "&gt;", ">"
    )
    assert_self_contained(html, tmp_path)


def test_values_from_data_are_escaped(params: dict[str, Any]) -> None:
    row = {"city_id": "<script>alert(1)</script>", "score": 101.0}
    failure = ExpectationFailure(
        "expect_column_values_to_be_between", "score", {"max_value": 100.0}, [row], "too high"
    )
    outcome = ExpectationOutcome(
        failure.expectation, "score", failure.kwargs, "", False, "1 of 1 rows unexpected", failure
    )
    suite = SuiteResult("index_scores", False, 1, [failure], [outcome])
    html = render_validation_page(CheckpointResult(False, [suite], None), params)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert parse(html).sample_cells == ["<script>alert(1)</script>", "101.0"]  # text, as written


@pytest.mark.browser
def test_page_renders_in_a_browser_without_network(failing: tuple) -> None:
    """Debian's chromium opens the page from disk; any request other than the file fails it."""
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian chromium not installed at /usr/bin/chromium: "
            "apt-get install chromium fonts-wqy-zenhei"
        )
    sync_api = pytest.importorskip("playwright.sync_api")
    result, _ = failing
    uri = result.docs_index.as_uri()
    requests: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: requests.append(r.url))

            def block(route: Any) -> None:
                if route.request.url == uri:
                    route.continue_()
                else:
                    route.abort()

            page.route("**/*", block)
            page.goto(uri, wait_until="load")
            page.wait_for_timeout(300)  # let any late fetch (icons, fonts) show up
            failing_row = page.locator('section[data-suite="index_scores"] tr[data-status="fail"]')
            assert failing_row.count() == 1 and failing_row.is_visible()
            assert "101.5" in failing_row.inner_text()
            box = page.locator("table").first.bounding_box()
            assert box is not None and box["width"] > 0 and box["height"] > 0
            artifacts = REPO_ROOT / "test-artifacts"
            artifacts.mkdir(exist_ok=True)
            page.screenshot(path=str(artifacts / "validation.png"), full_page=True)
        finally:
            browser.close()
    assert requests == [uri]
