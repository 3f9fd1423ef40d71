"""The report's audit and sensitivity sections: one sentence per flag, the audit tables, the
Sobol chart and the sentence naming the assumption that moves ranks most."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import polars as pl

from pipelines.analysis.audit import audit_edition
from pipelines.release.report import render_report
from pipelines.release.report_audit import sensitivity_data, sensitivity_sentence
from tests.test_analysis_audit import healthy_columns, synthetic_edition
from tests.test_report import make_edition

SENSITIVITY = pl.DataFrame(
    {
        "assumption": ["weights", "treatment", "normalisation", "aggregation"],
        "first_order": [0.05, 0.10, 0.30, 0.20],
        "total_order": [0.08, 0.12, 0.55, 0.31],
    }
)


def flagged_audit() -> pl.DataFrame:
    rng = np.random.default_rng(3)
    columns = healthy_columns()
    columns["b2"] = -columns["b1"] + rng.normal(scale=0.3, size=columns["b1"].size)
    return audit_edition(**synthetic_edition(columns))


def test_every_flag_has_its_sentence_and_the_tables_are_shown() -> None:
    audit = flagged_audit()
    notes = audit.filter(pl.col("findings").is_not_null())["findings"].to_list()
    assert notes  # the fixture has flags
    html = render_report(replace(make_edition(), audit=audit, sensitivity=SENSITIVITY))
    section = html[html.index('<section id="audit">') : html.index('<section id="sensitivity">')]
    for note in notes:
        assert note.replace("'", "&#39;") in section
    assert section.count("<li>") == len(notes)
    indicator_rows = re.findall(r"<tr[^>]*><td><code>(\w+)</code>", section)
    assert indicator_rows == ["a1", "a2", "b1", "b2"]


def test_sensitivity_chart_and_sentence() -> None:
    html = render_report(replace(make_edition(), audit=flagged_audit(), sensitivity=SENSITIVITY))
    figure = html[html.index('data-chart="sensitivity"') :]
    figure = figure[: figure.index("</figure>")]
    assert "<svg" in figure and "<text" in figure
    assert sensitivity_data(SENSITIVITY) == SENSITIVITY.to_dicts()  # what the bars show
    sentence = sensitivity_sentence(SENSITIVITY)
    assert sentence.startswith("Normalisation (min-max or z-score) moves the ranks most")
    assert "55%" in sentence and "30% on its own" in sentence
    assert sentence in html


def test_sections_say_so_when_not_computed() -> None:
    html = render_report(make_edition())
    assert "The sensitivity analysis was not computed for this edition." in html
    assert "Not computed for this edition." in html
