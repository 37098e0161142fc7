"""The basisscan questionnaire and its scoring to maturity levels M1-M4."""

from __future__ import annotations

import copy
import tomllib
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nca_share.constituency.maturity import (
    Answer,
    MaturityLevel,
    answer_label,
    level_description,
    level_for_score,
    load_basisscan,
    parse_basisscan,
    reassessment_due,
    reassessment_due_at,
    score_answers,
)
from nca_share.errors import ValidationError

SCAN = load_basisscan()
IDS = [s.id for s in SCAN.statements]


def answers(default: str = "yes", **by_principle: list[str]) -> dict[str, str]:
    """All statements ``default``; ``p3=["no", "yes", ...]`` sets principle 3's answers."""
    result = dict.fromkeys(IDS, default)
    for name, values in by_principle.items():
        number = int(name[1:])
        for statement, value in zip(SCAN.statements_of(number), values, strict=True):
            result[statement.id] = value
    return result


# ----------------------------------------------------------------------------- the content


def test_five_principles_of_five_statements() -> None:
    """25 statements, five per DTC basic principle, with unique ids."""
    assert [p.number for p in SCAN.principles] == [1, 2, 3, 4, 5]
    assert len(SCAN.statements) == 25
    assert len(set(IDS)) == 25
    for principle in SCAN.principles:
        assert len(SCAN.statements_of(principle.number)) == 5


@pytest.mark.parametrize("statement", SCAN.statements, ids=IDS)
def test_statement_has_text_and_tip_in_both_languages(statement: Any) -> None:
    """Every statement has Dutch and English text and a tip in both languages."""
    for text in (statement.text_nl, statement.text_en, statement.tip_nl, statement.tip_en):
        assert isinstance(text, str)
        assert len(text.strip()) > 20
    assert statement.text_nl != statement.text_en
    assert statement.tip_nl != statement.tip_en


def test_principles_are_named_in_both_languages() -> None:
    """Principles are inventory/back-ups, settings, updates, access, detection/response."""
    names = [p.name_en.lower() for p in SCAN.principles]
    assert "back-ups" in names[0]
    assert "settings" in names[1]
    assert "updates" in names[2]
    assert "access" in names[3]
    assert "detection" in names[4]
    assert all(p.name_nl and p.intro_nl and p.intro_en for p in SCAN.principles)


@pytest.mark.parametrize("level", list(MaturityLevel))
def test_level_descriptions(level: MaturityLevel) -> None:
    """Every level M0-M4 is described in nl and en, with what it receives."""
    description = level_description(level)
    assert description.level is level
    for text in (
        description.name_nl,
        description.name_en,
        description.summary_nl,
        description.summary_en,
        description.receives_nl,
        description.receives_en,
    ):
        assert text.strip()


def test_level_names_follow_the_domain_proposal() -> None:
    """M1 basis, M2 bewust, M3 beheerst, M4 volwassen; lookup accepts lower case."""
    assert [level_description(f"m{n}").name_nl for n in range(1, 5)] == [
        "Basis",
        "Bewust",
        "Beheerst",
        "Volwassen",
    ]
    with pytest.raises(ValidationError):
        level_description("M7")


# ----------------------------------------------------------------------------- scoring


@pytest.mark.parametrize(
    ("score", "level"),
    [(0, "M1"), (39, "M1"), (40, "M2"), (59, "M2"), (60, "M3"), (79, "M3"), (80, "M4"),
     (100, "M4")],
)  # fmt: skip
def test_level_thresholds(score: int, level: str) -> None:
    """Scores map to levels at 40, 60 and 80."""
    assert level_for_score(score) == level


@pytest.mark.parametrize(
    ("default", "overall", "level"),
    [("yes", 100, "M4"), ("partly", 50, "M2"), ("no", 0, "M1"), ("dont_know", 0, "M1")],
)
def test_uniform_answers(default: str, overall: int, level: str) -> None:
    """All yes is M4, all partly M2, all no or all don't know M1."""
    result = score_answers(answers(default))
    assert result.overall_score == overall
    assert result.level == level
    assert all(s.score == overall for s in result.per_principle_scores.values())


def test_overall_boundary_80() -> None:
    """Exactly 80 in every principle (4 yes, 1 no) reaches M4; one partly less drops to M3."""
    row = ["yes", "yes", "yes", "yes", "no"]
    at = score_answers(answers(p1=row, p2=row, p3=row, p4=row, p5=row))
    assert (at.overall_score, at.level) == (80, MaturityLevel.M4)
    below = score_answers(
        answers(p1=row, p2=row, p3=row, p4=row, p5=["yes", "yes", "yes", "partly", "no"])
    )
    assert (below.overall_score, below.level) == (78, MaturityLevel.M3)


def test_weakest_principle_caps_the_level() -> None:
    """Overall 80 with detection at 0 is capped at M2 (weakest M1 + 1), explained by name."""
    result = score_answers(answers(p5=["no"] * 5))
    assert result.overall_score == 80
    assert result.per_principle_scores[5].level is MaturityLevel.M1
    assert result.level is MaturityLevel.M2
    assert any("Detectie en reactie" in r for r in result.reasons_nl)
    assert any("Detection and response" in r for r in result.reasons_en)


@pytest.mark.parametrize(
    ("p5", "score5", "level"),
    [
        (["yes", "yes", "no", "no", "no"], 40, MaturityLevel.M3),  # weakest M2 caps M4 to M3
        (["yes", "yes", "yes", "no", "no"], 60, MaturityLevel.M4),  # weakest M3 allows M4
        (["yes", "partly", "no", "no", "no"], 30, MaturityLevel.M2),
    ],
)
def test_cap_boundaries(p5: list[str], score5: int, level: MaturityLevel) -> None:
    """M4 needs every principle at 60 or more; a principle below 40 allows at most M2."""
    result = score_answers(answers(p5=p5))
    assert result.per_principle_scores[5].score == score5
    assert result.level is level


def test_dont_know_counts_as_no() -> None:
    """ "Don't know" scores like "no" and is named in the reasons."""
    with_no = score_answers(answers(p2=["no", "yes", "yes", "yes", "yes"]))
    with_dk = score_answers(answers(p2=["dont_know", "yes", "yes", "yes", "yes"]))
    assert with_no.overall_score == with_dk.overall_score
    assert with_no.level == with_dk.level
    assert with_dk.per_principle_scores[2].dont_know == 1
    assert any("1 keer 'weet ik niet'" in r for r in with_dk.reasons_nl)
    assert any("'don't know' once" in r for r in with_dk.reasons_en)
    assert not any("keer 'weet ik niet'" in r for r in with_no.reasons_nl)


def test_many_dont_know_cap_at_m2() -> None:
    """Five "don't know" answers cap an otherwise M4 result at M2; four do not."""
    row = ["yes", "yes", "yes", "yes", "dont_know"]
    five = score_answers(answers(p1=row, p2=row, p3=row, p4=row, p5=row))
    assert five.overall_score == 80
    assert five.level is MaturityLevel.M2
    assert any("hoogstens M2" in r for r in five.reasons_nl)
    four = score_answers(answers(p1=row, p2=row, p3=row, p4=row))
    assert four.level is MaturityLevel.M4


def test_reasons_explain_rule_in_both_languages() -> None:
    """Every result states its score and the scoring rule in Dutch and English."""
    result = score_answers(answers("partly"))
    assert "50" in result.reasons_nl[0]
    assert "50" in result.reasons_en[0]
    assert "80" in result.reasons_nl[-1]
    assert "80" in result.reasons_en[-1]
    assert len(result.reasons_nl) == len(result.reasons_en)


def test_tips_for_every_answer_but_yes_weakest_first() -> None:
    """Tips cover exactly the statements not answered yes, weakest principle first."""
    given_answers = answers(
        p2=["partly", "yes", "yes", "yes", "yes"], p4=["no", "dont_know", "no", "yes", "yes"]
    )
    result = score_answers(given_answers)
    assert {t.statement_id for t in result.tips} == {
        sid for sid, a in given_answers.items() if a != "yes"
    }
    assert [t.principle for t in result.tips] == [4, 4, 4, 2]
    assert all(t.text_nl and t.text_en for t in result.tips)
    assert score_answers(answers()).tips == ()


def test_answers_are_normalised() -> None:
    """Answers are read case-insensitively and as enum values."""
    mixed: dict[str, Any] = dict.fromkeys(IDS, " YES ")
    mixed[IDS[0]] = Answer.PARTLY
    assert score_answers(mixed).overall_score == 98
    assert answer_label(Answer.DONT_KNOW, "nl") == "weet ik niet"
    assert answer_label(Answer.DONT_KNOW, "en") == "don't know"


def test_incomplete_answers_rejected() -> None:
    """Unanswered statements are listed in the error."""
    partial = answers()
    del partial["3.2"]
    del partial["5.5"]
    with pytest.raises(ValidationError) as info:
        score_answers(partial)
    assert info.value.details["missing"] == ["3.2", "5.5"]
    assert "3.2" in info.value.message


def test_unknown_statement_rejected() -> None:
    """Answers to unknown statements are refused."""
    with pytest.raises(ValidationError) as info:
        score_answers({**answers(), "9.9": "yes"})
    assert "9.9" in info.value.message


@pytest.mark.parametrize("bad", ["maybe", "", 3, None])
def test_invalid_answer_rejected(bad: Any) -> None:
    """Invalid answers name the statement (a None answer counts as unanswered)."""
    given_answers: dict[str, Any] = answers()
    given_answers["2.3"] = bad
    with pytest.raises(ValidationError) as info:
        score_answers(given_answers)
    assert info.value.location in ("answers.2.3", "answers")


def test_answers_must_be_a_mapping() -> None:
    """A list instead of a mapping is refused."""
    with pytest.raises(ValidationError):
        score_answers(["yes"] * 25)  # type: ignore[arg-type]


ORDER = [Answer.DONT_KNOW, Answer.NO, Answer.PARTLY, Answer.YES]


@given(
    base=st.lists(st.sampled_from(ORDER), min_size=25, max_size=25),
    index=st.integers(min_value=0, max_value=24),
)
def test_a_better_answer_never_lowers_the_level(base: list[Answer], index: int) -> None:
    """Improving one answer (don't know → no → partly → yes) never lowers score or level."""
    before = dict(zip(IDS, base, strict=True))
    current = ORDER.index(base[index])
    after = dict(before)
    after[IDS[index]] = ORDER[min(current + 1, 3)]
    a, b = score_answers(before), score_answers(after)
    assert b.overall_score >= a.overall_score
    assert b.level.number >= a.level.number
    assert MaturityLevel.M1.number <= a.level.number <= MaturityLevel.M4.number
    weakest = min(s.level.number for s in a.per_principle_scores.values())
    assert a.level.number <= weakest + 1


# ----------------------------------------------------------------------------- reassessment


def test_reassessment_due_after_twelve_months() -> None:
    """A reassessment is due exactly twelve calendar months later, not a second before."""
    assessed = datetime(2025, 3, 15, 10, 0, tzinfo=UTC)
    due = datetime(2026, 3, 15, 10, 0, tzinfo=UTC)
    assert reassessment_due_at(assessed) == due
    assert not reassessment_due(assessed, due - timedelta(seconds=1))
    assert reassessment_due(assessed, due)
    assert reassessment_due(assessed, due + timedelta(days=400))


def test_reassessment_from_leap_day() -> None:
    """29 February moves to 28 February of the next year."""
    assert reassessment_due_at(datetime(2024, 2, 29, tzinfo=UTC)) == datetime(
        2025, 2, 28, tzinfo=UTC
    )


def test_reassessment_across_time_zones() -> None:
    """Aware datetimes in different zones compare as instants."""
    assessed = datetime(2025, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert not reassessment_due(assessed, datetime(2026, 6, 1, 9, 59, tzinfo=UTC))
    assert reassessment_due(assessed, datetime(2026, 6, 1, 10, 0, tzinfo=UTC))


def test_never_assessed_is_due() -> None:
    """An organisation never assessed is due."""
    assert reassessment_due(None, datetime(2026, 1, 1, tzinfo=UTC))


def test_naive_datetimes_rejected() -> None:
    """Naive datetimes are refused rather than guessed."""
    with pytest.raises(ValidationError):
        reassessment_due(datetime(2025, 1, 1), datetime(2026, 1, 1, tzinfo=UTC))  # noqa: DTZ001
    with pytest.raises(ValidationError):
        reassessment_due(datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1))  # noqa: DTZ001


# ----------------------------------------------------------------------------- data validation


def _doc() -> dict[str, Any]:
    text = (
        resources.files("nca_share.constituency")
        .joinpath("data")
        .joinpath("basisscan.toml")
        .read_text("utf-8")
    )
    return tomllib.loads(text)


@pytest.mark.parametrize(
    "mutate",
    ["missing_tip", "unknown_principle", "duplicate_id", "missing_level", "gap_in_principles"],
)
def test_broken_questionnaire_rejected(mutate: str) -> None:
    """A broken questionnaire fails at load with the place of the error."""
    doc = copy.deepcopy(_doc())
    if mutate == "missing_tip":
        del doc["statement"][4]["tip_en"]
    elif mutate == "unknown_principle":
        doc["statement"][0]["principle"] = 9
    elif mutate == "duplicate_id":
        doc["statement"][1]["id"] = doc["statement"][0]["id"]
    elif mutate == "missing_level":
        del doc["level"]["M3"]
    elif mutate == "gap_in_principles":
        doc["principle"][2]["number"] = 7
    with pytest.raises(ValidationError) as info:
        parse_basisscan(doc)
    assert info.value.location
    assert info.value.location.startswith("basisscan.toml")


def test_questionnaire_is_cached() -> None:
    """The packaged questionnaire loads once and carries a version."""
    assert load_basisscan() is SCAN
    assert SCAN.version
    assert score_answers(answers()).basisscan_version == SCAN.version
