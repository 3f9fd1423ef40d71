"""The one framework validator (iMeta for `compute`, assets/framework.csv for the index)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.index.framework_check import FrameworkError, load_framework
from pipelines.settings import FRAMEWORK_CSV

GOOD = """\
Level,iCode,iName,Direction,Weight,Parent,Type,Unit
1,reach,Reach,1,1,pillar,Indicator,count
1,tone,Tone,-1,0.5,pillar,Indicator,score
2,pillar,Pillar,1,1,index,Aggregate,
3,index,Index,1,1,,Aggregate,
,size,Size group,,,,Group,
"""


def refuse(tmp_path: Path, text: str) -> str:
    path = tmp_path / "meta.csv"
    path.write_text(text)
    with pytest.raises(FrameworkError) as refused:
        load_framework(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: ")
    return message[len(f"{path}: ") :]


def test_the_city_index_framework_and_a_coinr_style_imeta_pass(tmp_path: Path) -> None:
    assert load_framework(FRAMEWORK_CSV).filter(Type="Indicator").height >= 1
    path = tmp_path / "meta.csv"
    path.write_text(GOOD)
    checked = load_framework(path)
    assert checked.columns[-1] == "Unit"  # extra columns are kept
    assert checked.height == 5  # Group rows stand aside from the tree


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "3,index,Index,1,1,,",
            "3,index,Index,1,1,pillar,",
            "row 5, column Parent: parents form a cycle: pillar -> index -> pillar",
        ),
        (
            ",pillar,Indicator,score",
            ",pilar,Indicator,score",
            "row 3, column Parent: parent 'pilar' of 'tone' is not a code in this file",
        ),
        (
            ",pillar,Indicator,count",
            ",size,Indicator,count",
            "row 2, column Parent: parent 'size' of 'reach' is a Group, not an Aggregate",
        ),
        (
            ",pillar,Indicator,count",
            ",,Indicator,count",
            "row 2, column Parent: indicator 'reach' has no parent",
        ),
        ("-1,0.5", "-1,0", "row 3, column Weight: not a positive number ('0')"),
        ("-1,0.5", "-1,heavy", "row 3, column Weight: not a positive number ('heavy')"),
        ("-1,0.5", "-1,inf", "row 3, column Weight: not a positive number ('inf')"),
        ("-1,0.5", "down,0.5", "row 3, column Direction: not 1 or -1 ('down')"),
        ("2,pillar", "1.5,pillar", "row 4, column Level: not a whole number >= 1 ('1.5')"),
        (
            "2,pillar",
            "4,pillar",
            "row 2, column Level: 'reach' is at level 1 but its parent 'pillar' is at level 4",
        ),
        ("1,tone", "2,tone", "row 3, column Level: indicator 'tone' is at level 2, not 1"),
        (
            "1,tone,",
            "1,tone; drop table x,",
            "row 3, column iCode: not a code of letters, digits and _",
        ),
        ("1,tone,", "1,reach,", "row 3, column iCode: duplicate code 'reach' (first on row 2)"),
        ("Indicator,score", "Indicatr,score", "row 3, column Type: not one of Indicator"),
        ("Weight", "Weights", "row 1, column Weight: required column is missing"),
    ],
)
def test_each_rule_names_row_and_column(tmp_path: Path, old: str, new: str, expected: str):
    assert old in GOOD
    assert refuse(tmp_path, GOOD.replace(old, new, 1)).startswith(expected)


def test_no_indicator_no_rows_and_empty_file(tmp_path: Path) -> None:
    header = GOOD.splitlines()[0] + "\n"
    assert refuse(tmp_path, "").startswith("the file is empty")
    assert refuse(tmp_path, header) == "a header and no rows: add the indicators"
    only_aggregates = header + "3,index,Index,1,1,,Aggregate,\n"
    assert refuse(tmp_path, only_aggregates).startswith("column Type: no row of Type Indicator")


def test_an_aggregate_without_children_or_a_second_root(tmp_path: Path) -> None:
    lonely = GOOD + "2,extra,Extra,1,1,index,Aggregate,\n"
    assert refuse(tmp_path, lonely) == "row 7, column iCode: aggregate 'extra' has no children"
    second_tree = GOOD + "1,far,Far,1,1,side,Indicator,\n2,side,Side,1,1,,Aggregate,\n"
    assert refuse(tmp_path, second_tree).startswith(
        "row 8, column Parent: aggregate 'side' has no parent but is at level 2, below the top"
    )
