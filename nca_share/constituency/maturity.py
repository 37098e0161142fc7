"""Maturity self-assessment: the basisscan questionnaire (``data/basisscan.toml``, written for
nca_share in Dutch and English, grouped by the five DTC basic principles) and its scoring to
the platform levels M1-M4 (DOMAIN.md §5; M0 = not assessed).

Scoring rule (explained in every result):

* every statement scores ``yes`` 2, ``partly`` 1, ``no`` 0, ``dont_know`` 0 points
  (what you do not know you cannot rely on);
* a principle's score is its points as a percentage of its maximum (0-100); the overall score
  is all points as a percentage of the maximum;
* a score maps to a level: ≥ 80 M4, ≥ 60 M3, ≥ 40 M2, otherwise M1;
* the overall level is the level of the overall score, capped at one above the level of the
  weakest principle (so M4 needs every principle at M3 or better, M3 every principle at M2);
* five or more ``dont_know`` answers cap the level at M2.

A reassessment is due twelve calendar months after the last one. Nothing here touches the
database: the constituency service stores answers, results and history.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from importlib import resources
from typing import Any

from nca_share.errors import ValidationError

__all__ = [
    "ANSWER_POINTS",
    "DONT_KNOW_CAP",
    "LEVEL_THRESHOLDS",
    "REASSESS_AFTER_MONTHS",
    "Answer",
    "Basisscan",
    "LevelDescription",
    "MaturityLevel",
    "MaturityResult",
    "Principle",
    "PrincipleScore",
    "Statement",
    "Tip",
    "level_description",
    "level_for_score",
    "load_basisscan",
    "reassessment_due",
    "reassessment_due_at",
    "score_answers",
]


class MaturityLevel(StrEnum):
    """Platform maturity levels; M0 means not assessed."""

    M0 = "M0"
    M1 = "M1"
    M2 = "M2"
    M3 = "M3"
    M4 = "M4"

    @property
    def number(self) -> int:
        return int(self.value[1])

    @classmethod
    def of(cls, number: int) -> MaturityLevel:
        return cls(f"M{number}")


class Answer(StrEnum):
    """An answer to one statement."""

    YES = "yes"
    PARTLY = "partly"
    NO = "no"
    DONT_KNOW = "dont_know"


ANSWER_POINTS: Mapping[Answer, int] = {
    Answer.YES: 2,
    Answer.PARTLY: 1,
    Answer.NO: 0,
    Answer.DONT_KNOW: 0,
}
MAX_POINTS = 2
# Lowest score (percent) for each level, highest first.
LEVEL_THRESHOLDS: tuple[tuple[MaturityLevel, int], ...] = (
    (MaturityLevel.M4, 80),
    (MaturityLevel.M3, 60),
    (MaturityLevel.M2, 40),
)
# How far the overall level may rise above the weakest principle's level.
WEAKEST_MARGIN = 1
# From this many "don't know" answers the level is capped at this level.
DONT_KNOW_CAP: tuple[int, MaturityLevel] = (5, MaturityLevel.M2)
REASSESS_AFTER_MONTHS = 12

_ANSWER_LABELS = {
    Answer.YES: ("ja", "yes"),
    Answer.PARTLY: ("deels", "partly"),
    Answer.NO: ("nee", "no"),
    Answer.DONT_KNOW: ("weet ik niet", "don't know"),
}


@dataclass(frozen=True, slots=True)
class Principle:
    """One of the five DTC basic principles."""

    number: int
    name_nl: str
    name_en: str
    intro_nl: str
    intro_en: str


@dataclass(frozen=True, slots=True)
class Statement:
    """A statement the organisation answers, with the tip shown when the answer is not yes."""

    id: str
    principle: int
    text_nl: str
    text_en: str
    tip_nl: str
    tip_en: str


@dataclass(frozen=True, slots=True)
class LevelDescription:
    """What a level means and what an organisation at that level receives."""

    level: MaturityLevel
    name_nl: str
    name_en: str
    summary_nl: str
    summary_en: str
    receives_nl: str
    receives_en: str


@dataclass(frozen=True, slots=True)
class Basisscan:
    """The loaded questionnaire."""

    version: str
    principles: tuple[Principle, ...]
    statements: tuple[Statement, ...]
    levels: Mapping[MaturityLevel, LevelDescription]

    def principle(self, number: int) -> Principle:
        for principle in self.principles:
            if principle.number == number:
                return principle
        raise ValidationError(f"unknown principle {number}", location="principle")

    def statements_of(self, number: int) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if s.principle == number)


@dataclass(frozen=True, slots=True)
class PrincipleScore:
    """The score of one principle."""

    principle: int
    name_nl: str
    name_en: str
    points: int
    max_points: int
    score: int  # percent, 0-100 (rounded down)
    level: MaturityLevel
    dont_know: int


@dataclass(frozen=True, slots=True)
class Tip:
    """A tip for a statement that was not answered yes."""

    statement_id: str
    principle: int
    answer: Answer
    text_nl: str
    text_en: str


@dataclass(frozen=True, slots=True)
class MaturityResult:
    """The scored self-assessment: level, per-principle scores, reasons and tips.

    ``tips`` are ordered weakest principle first, then ``no``/``dont_know`` before ``partly``.
    """

    level: MaturityLevel
    overall_score: int
    per_principle_scores: Mapping[int, PrincipleScore]
    reasons_nl: tuple[str, ...]
    reasons_en: tuple[str, ...]
    tips: tuple[Tip, ...]
    basisscan_version: str


# --------------------------------------------------------------------------- loading


def _text(item: Mapping[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{key!r} must be a non-empty string", location=where)
    return value.strip()


def parse_basisscan(doc: Mapping[str, Any]) -> Basisscan:
    """Build and validate a questionnaire from a parsed TOML document.

    :raises ValidationError: the document is malformed; ``location`` names the entry.
    """
    file = "basisscan.toml"
    version = _text(doc, "version", file)
    raw_principles = doc.get("principle")
    raw_statements = doc.get("statement")
    raw_levels = doc.get("level")
    if not isinstance(raw_principles, list) or not isinstance(raw_statements, list):
        raise ValidationError("needs [[principle]] and [[statement]] tables", location=file)
    if not isinstance(raw_levels, dict):
        raise ValidationError("needs [level.M0] … [level.M4] tables", location=file)

    principles: list[Principle] = []
    for i, item in enumerate(raw_principles):
        where = f"{file}: principle[{i}]"
        number = item.get("number") if isinstance(item, dict) else None
        if not isinstance(number, int) or isinstance(number, bool) or number != i + 1:
            raise ValidationError("principles must be numbered 1, 2, 3 … in order", location=where)
        principles.append(
            Principle(
                number=number,
                name_nl=_text(item, "nl", where),
                name_en=_text(item, "en", where),
                intro_nl=_text(item, "intro_nl", where),
                intro_en=_text(item, "intro_en", where),
            )
        )
    numbers = {p.number for p in principles}

    statements: list[Statement] = []
    for i, item in enumerate(raw_statements):
        where = f"{file}: statement[{i}]"
        if not isinstance(item, dict):
            raise ValidationError("expected a table", location=where)
        sid = _text(item, "id", where)
        principle = item.get("principle")
        if principle not in numbers:
            raise ValidationError(f"unknown principle {principle!r}", location=where)
        if any(s.id == sid for s in statements):
            raise ValidationError(f"duplicate statement id {sid!r}", location=where)
        statements.append(
            Statement(
                id=sid,
                principle=int(principle),
                text_nl=_text(item, "nl", where),
                text_en=_text(item, "en", where),
                tip_nl=_text(item, "tip_nl", where),
                tip_en=_text(item, "tip_en", where),
            )
        )
    empty = numbers - {s.principle for s in statements}
    if empty:
        raise ValidationError(f"principles without statements: {sorted(empty)}", location=file)

    levels: dict[MaturityLevel, LevelDescription] = {}
    for level in MaturityLevel:
        where = f"{file}: level.{level.value}"
        item = raw_levels.get(level.value)
        if not isinstance(item, dict):
            raise ValidationError("missing level description", location=where)
        levels[level] = LevelDescription(
            level=level,
            name_nl=_text(item, "nl", where),
            name_en=_text(item, "en", where),
            summary_nl=_text(item, "summary_nl", where),
            summary_en=_text(item, "summary_en", where),
            receives_nl=_text(item, "receives_nl", where),
            receives_en=_text(item, "receives_en", where),
        )
    return Basisscan(
        version=version,
        principles=tuple(principles),
        statements=tuple(statements),
        levels=levels,
    )


@functools.cache
def load_basisscan() -> Basisscan:
    """The packaged questionnaire, loaded and validated once per process.

    :raises ValidationError: the packaged file is broken (a bug, reported with its place).
    """
    text = (
        resources.files("nca_share.constituency")
        .joinpath("data")
        .joinpath("basisscan.toml")
        .read_text("utf-8")
    )
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(str(exc), location="basisscan.toml") from exc
    return parse_basisscan(doc)


def level_description(level: MaturityLevel | str) -> LevelDescription:
    """What a level means and what it receives, in Dutch and English.

    :raises ValidationError: unknown level.
    """
    try:
        key = MaturityLevel(str(level).strip().upper())
    except ValueError:
        raise ValidationError(
            f"unknown maturity level {str(level)[:10]!r}", location="level"
        ) from None
    return load_basisscan().levels[key]


# --------------------------------------------------------------------------- scoring


def level_for_score(score: int) -> MaturityLevel:
    """The level a score (percent) reaches on its own: ≥ 80 M4, ≥ 60 M3, ≥ 40 M2, else M1."""
    for level, threshold in LEVEL_THRESHOLDS:
        if score >= threshold:
            return level
    return MaturityLevel.M1


def _parse_answers(answers: Mapping[str, Any], scan: Basisscan) -> dict[str, Answer]:
    if not isinstance(answers, Mapping):
        raise ValidationError("answers must map statement ids to answers", location="answers")
    known = {s.id for s in scan.statements}
    unknown = sorted(str(k)[:20] for k in answers if k not in known)
    if unknown:
        raise ValidationError(f"unknown statements: {', '.join(unknown[:10])}", location="answers")
    parsed: dict[str, Answer] = {}
    for statement in scan.statements:
        raw = answers.get(statement.id)
        if raw is None:
            continue
        try:
            parsed[statement.id] = Answer(str(raw).strip().lower())
        except ValueError:
            raise ValidationError(
                "answer must be yes, partly, no or dont_know",
                location=f"answers.{statement.id}",
            ) from None
    missing = [s.id for s in scan.statements if s.id not in parsed]
    if missing:
        raise ValidationError(
            f"unanswered statements: {', '.join(missing)}",
            location="answers",
            details={"missing": missing},
        )
    return parsed


def score_answers(answers: Mapping[str, Any], *, scan: Basisscan | None = None) -> MaturityResult:
    """Score a complete basisscan to a level M1-M4 with reasons and tips.

    :param answers: statement id → ``yes`` / ``partly`` / ``no`` / ``dont_know``.
    :param scan: the questionnaire (the packaged one by default).
    :raises ValidationError: unknown statements, invalid answers or unanswered statements.
    """
    scan = scan or load_basisscan()
    parsed = _parse_answers(answers, scan)

    scores: dict[int, PrincipleScore] = {}
    for principle in scan.principles:
        statements = scan.statements_of(principle.number)
        points = sum(ANSWER_POINTS[parsed[s.id]] for s in statements)
        max_points = MAX_POINTS * len(statements)
        score = points * 100 // max_points
        scores[principle.number] = PrincipleScore(
            principle=principle.number,
            name_nl=principle.name_nl,
            name_en=principle.name_en,
            points=points,
            max_points=max_points,
            score=score,
            level=level_for_score(score),
            dont_know=sum(parsed[s.id] is Answer.DONT_KNOW for s in statements),
        )
    total = sum(s.points for s in scores.values())
    total_max = sum(s.max_points for s in scores.values())
    overall = total * 100 // total_max
    level = level_for_score(overall)
    reasons_nl = [
        f"Uw totaalscore is {overall} van de 100; dat past bij niveau {level.value} "
        f"({scan.levels[level].name_nl.lower()})."
    ]
    reasons_en = [
        f"Your overall score is {overall} out of 100, which fits level {level.value} "
        f"({scan.levels[level].name_en.lower()})."
    ]

    weakest = min(scores.values(), key=lambda s: (s.score, s.principle))
    cap = MaturityLevel.of(min(4, weakest.level.number + WEAKEST_MARGIN))
    if cap.number < level.number:
        level = cap
        reasons_nl.append(
            f"Uw zwakste onderdeel is '{weakest.name_nl}' met {weakest.score} van de 100 "
            f"({weakest.level.value}); het totaalniveau kan niet meer dan één niveau hoger zijn, "
            f"dus wordt het {level.value}."
        )
        reasons_en.append(
            f"Your weakest principle is '{weakest.name_en}' at {weakest.score} out of 100 "
            f"({weakest.level.value}); the overall level can be at most one level higher, "
            f"so it becomes {level.value}."
        )

    dont_know = sum(s.dont_know for s in scores.values())
    times_en = "once" if dont_know == 1 else f"{dont_know} times"
    limit, dont_know_level = DONT_KNOW_CAP
    if dont_know >= limit and level.number > dont_know_level.number:
        level = dont_know_level
        reasons_nl.append(
            f"U antwoordde {dont_know} keer 'weet ik niet'; wie niet weet hoe het ervoor "
            f"staat, kan er niet op vertrouwen. Het niveau is daarom hoogstens {level.value}."
        )
        reasons_en.append(
            f"You answered 'don't know' {times_en}; what you do not know you cannot "
            f"rely on, so the level is at most {level.value}."
        )
    elif dont_know:
        reasons_nl.append(
            f"U antwoordde {dont_know} keer 'weet ik niet'; die antwoorden tellen als 'nee'."
        )
        reasons_en.append(f"You answered 'don't know' {times_en}; those answers count as 'no'.")
    reasons_nl.append(
        "Per uitspraak telt ja 2 punten, deels 1 en nee of weet ik niet 0. Vanaf 80 is het "
        "niveau M4, vanaf 60 M3 en vanaf 40 M2; daaronder M1."
    )
    reasons_en.append(
        "Each statement scores 2 points for yes, 1 for partly and 0 for no or don't know. "
        "From 80 the level is M4, from 60 M3 and from 40 M2; below that M1."
    )

    severity = {Answer.NO: 0, Answer.DONT_KNOW: 0, Answer.PARTLY: 1}
    order = {s.id: i for i, s in enumerate(scan.statements)}
    weak = [s for s in scan.statements if parsed[s.id] is not Answer.YES]
    weak.sort(
        key=lambda s: (
            scores[s.principle].score,
            s.principle,
            severity[parsed[s.id]],
            order[s.id],
        )
    )
    tips = tuple(
        Tip(
            statement_id=s.id,
            principle=s.principle,
            answer=parsed[s.id],
            text_nl=s.tip_nl,
            text_en=s.tip_en,
        )
        for s in weak
    )
    return MaturityResult(
        level=level,
        overall_score=overall,
        per_principle_scores=scores,
        reasons_nl=tuple(reasons_nl),
        reasons_en=tuple(reasons_en),
        tips=tips,
        basisscan_version=scan.version,
    )


def answer_label(answer: Answer, locale: str) -> str:
    """The answer as shown to the user ("weet ik niet" / "don't know")."""
    nl, en = _ANSWER_LABELS[answer]
    return nl if locale.startswith("nl") else en


# --------------------------------------------------------------------------- reassessment


def reassessment_due_at(assessed_at: datetime) -> datetime:
    """Twelve calendar months after ``assessed_at`` (29 February → 28 February).

    :raises ValidationError: ``assessed_at`` has no time zone.
    """
    if assessed_at.tzinfo is None or assessed_at.utcoffset() is None:
        raise ValidationError("needs a timezone-aware datetime", location="assessed_at")
    years, months = divmod(assessed_at.month - 1 + REASSESS_AFTER_MONTHS, 12)
    year = assessed_at.year + years
    month = months + 1
    day = assessed_at.day
    while True:
        try:
            return assessed_at.replace(year=year, month=month, day=day)
        except ValueError:  # the day does not exist in that month
            day -= 1


def reassessment_due(assessed_at: datetime | None, now: datetime) -> bool:
    """True when the organisation was never assessed or twelve months have passed.

    :raises ValidationError: a datetime without a time zone.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValidationError("needs a timezone-aware datetime", location="now")
    if assessed_at is None:
        return True
    return now >= reassessment_due_at(assessed_at)
