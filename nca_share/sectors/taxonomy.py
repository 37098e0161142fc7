"""The sector taxonomy: NIS2 Annex I/II sectors and entity types, NACE Rev. 2 / SBI hints,
the STIX 2.1 ``industry-sector-ov`` vocabulary and the mapping between them.

The knowledge lives in ``nca_share/sectors/data/*.toml`` (nis2, mapping, stix); this module
loads it once, validates it (unknown keys, slugs or STIX values fail loudly at load) and
answers look-ups. Nothing here stores companies: the constituency package keeps per company
``sbi_codes`` (with ``sbi_version``), ``nis2 entity types`` and derives ``nis2_keys`` and
``stix_sectors`` through the functions below.

NACE is a HINT, never a verdict: the regulated activity decides (NIS2 uses NACE as a legal test
only for pharma, division 21, and manufacturing divisions 26-30). SBI's first four digits are
the NACE class; SBI 2008 codes are NACE Rev. 2 (which NIS2 cites), SBI 2025 codes are NACE
Rev. 2.1, so hints computed from SBI 2025 are flagged approximate.
"""

from __future__ import annotations

import functools
import logging
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any

from nca_share.errors import NotFound, ValidationError

log = logging.getLogger(__name__)

__all__ = [
    "Annex",
    "EntityType",
    "HintFlag",
    "MappingRow",
    "NaceHint",
    "Nis2Sector",
    "SbiVersion",
    "SectorHint",
    "StixSector",
    "Taxonomy",
    "annex_keys_for",
    "entity_type",
    "entity_types_for_key",
    "hints_for_sbi",
    "load_taxonomy",
    "nace_class_for_sbi",
    "nis2_keys_for_stix_sector",
    "nis2_sector",
    "stix_sectors_for",
]


class Annex(StrEnum):
    """The NIS2 annex a sector belongs to (Annex I: high criticality; Annex II: other)."""

    I = "I"  # noqa: E741 - the annex is called "I" in the directive
    II = "II"


class SbiVersion(StrEnum):
    """Which SBI edition a code comes from: 2008 ≈ NACE Rev. 2, 2025 ≈ NACE Rev. 2.1."""

    SBI_2008 = "2008"
    SBI_2025 = "2025"

    @property
    def nace_revision(self) -> str:
        return "2" if self is SbiVersion.SBI_2008 else "2.1"

    @property
    def approximate(self) -> bool:
        """NIS2 cites NACE Rev. 2; hints from any other revision are approximate."""
        return self is not SbiVersion.SBI_2008

    @classmethod
    def parse(cls, value: str | SbiVersion) -> SbiVersion:
        """Accept ``"2008"``, ``"SBI 2008"``, ``"sbi2025"`` etc.

        :raises ValidationError: the value is no known SBI edition.
        """
        if isinstance(value, SbiVersion):
            return value
        text = str(value).strip().lower().removeprefix("sbi").strip(" -_")
        for member in cls:
            if text == member.value:
                return member
        raise ValidationError(
            f"unknown SBI version {str(value)[:40]!r} (expected 2008 or 2025)",
            location="sbi_version",
        )


class HintFlag(StrEnum):
    """Why a sector hint is (or is not) uncertain."""

    GENERIC_CODE = "generic_code"  # the NACE class also covers activities outside the NIS2 type
    NOT_DERIVABLE = "not_derivable"  # the NIS2 type cannot be recognised from NACE at all
    MULTIPLE_KEYS = "multiple_keys"  # the same code hints at several NIS2 keys
    BROADER_CODE = "broader_code"  # the SBI code is coarser than the hint (e.g. division only)
    APPROXIMATE_VERSION = "approximate_version"  # SBI 2025 / NACE Rev. 2.1, NIS2 cites Rev. 2
    SECTOR_NOTE = "sector_note"  # the mapping row carries an ambiguity note
    LEX_SPECIALIS = "lex_specialis"  # another law (DORA) takes precedence for reporting
    LEGAL_TEST = "legal_test"  # NIS2 itself uses this NACE code: not an ambiguity


@dataclass(frozen=True, slots=True)
class Nis2Sector:
    """One NIS2 Annex row (sector or sub-sector), keyed ``Annex.point`` (e.g. ``I.1a``)."""

    key: str
    annex: Annex
    sector_nl: str
    sector_en: str
    subsector_nl: str | None
    subsector_en: str | None
    public_administration: bool

    @property
    def name_nl(self) -> str:
        return f"{self.sector_nl} — {self.subsector_nl}" if self.subsector_nl else self.sector_nl

    @property
    def name_en(self) -> str:
        return f"{self.sector_en} — {self.subsector_en}" if self.subsector_en else self.sector_en

    def name(self, locale: str) -> str:
        return self.name_nl if locale.startswith("nl") else self.name_en


@dataclass(frozen=True, slots=True)
class EntityType:
    """A NIS2 entity type with a stable slug; ``nis2_key`` is None for types outside the
    annexes (domain-name registration services)."""

    slug: str
    nis2_key: str | None
    label_nl: str
    label_en: str
    article: str | None

    def label(self, locale: str) -> str:
        return self.label_nl if locale.startswith("nl") else self.label_en


@dataclass(frozen=True, slots=True)
class NaceHint:
    """A NACE Rev. 2 hint: a division, group, class or class range, as written in the data."""

    text: str
    low: str  # NACE digits without dots, e.g. "3511"
    high: str
    generic: bool
    legal: bool

    @property
    def level(self) -> int:
        """Number of NACE digits: 2 division, 3 group, 4 class."""
        return len(self.low)

    def match(self, nace_digits: str) -> bool | None:
        """``True`` when the code lies inside the hint, ``None`` when the code is coarser
        than the hint but overlaps it, ``False`` otherwise."""
        n = len(nace_digits)
        if n >= self.level:
            return self.low <= nace_digits[: self.level] <= self.high
        if self.low[:n] <= nace_digits <= self.high[:n]:
            return None
        return False


@dataclass(frozen=True, slots=True)
class MappingRow:
    """One row of the NIS2 ↔ NACE ↔ STIX mapping (DOMAIN.md §3)."""

    id: str
    nis2_key: str
    entity_types: tuple[str, ...]  # empty: the row applies to every type of the key
    nace: tuple[NaceHint, ...]  # NACE Rev. 2 (SBI 2008)
    nace_2025: tuple[NaceHint, ...]  # NACE Rev. 2.1 (SBI 2025)
    stix: frozenset[str]
    stix_partial: frozenset[str]
    note_nl: str | None
    note_en: str | None
    not_derivable: bool
    lex_specialis: str | None

    def hints(self, version: SbiVersion) -> tuple[NaceHint, ...]:
        """The NACE hints in the numbering of the given SBI edition."""
        return self.nace if version is SbiVersion.SBI_2008 else self.nace_2025


@dataclass(frozen=True, slots=True)
class SectorHint:
    """A candidate NIS2 key suggested by an SBI code: a hint for a human, never a verdict."""

    nis2_key: str
    row_id: str
    entity_types: tuple[str, ...]  # candidate entity types for the key (all when not narrowed)
    sbi_code: str
    nace_class: str  # the NACE digits derived from the SBI code, dotted ("35.11")
    nace_hint: str  # the hint from the mapping that matched ("35.11-35.14")
    flags: frozenset[HintFlag]
    note_nl: str | None
    note_en: str | None

    @property
    def ambiguous(self) -> bool:
        """True when anything but a legal NACE test backs the hint."""
        return bool(self.flags - {HintFlag.LEGAL_TEST})


@dataclass(frozen=True, slots=True)
class StixSector:
    """A value of the STIX ``industry-sector-ov`` vocabulary with display labels."""

    value: str
    label_nl: str
    label_en: str
    has_nis2: bool  # False for the values DOMAIN.md lists as having no NIS2 counterpart

    def label(self, locale: str) -> str:
        return self.label_nl if locale.startswith("nl") else self.label_en


# --------------------------------------------------------------------------- loading


def _where(file: str, section: str, index: int | None = None, key: str | None = None) -> str:
    loc = f"{file}: {section}"
    if index is not None:
        loc += f"[{index}]"
    if key is not None:
        loc += f".{key}"
    return loc


def _req_str(item: Mapping[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{key!r} must be a non-empty string", location=where)
    return value.strip()


def _opt_str(item: Mapping[str, Any], key: str, where: str) -> str | None:
    value = item.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{key!r} must be a string", location=where)
    return value.strip()


def _str_list(item: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = item.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValidationError(f"{key!r} must be a list of non-empty strings", location=where)
    if len(set(value)) != len(value):
        raise ValidationError(f"{key!r} has duplicates", location=where)
    return tuple(value)


def _table_list(doc: Mapping[str, Any], key: str, file: str) -> list[Mapping[str, Any]]:
    value = doc.get(key)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValidationError(f"missing array of tables [[{key}]]", location=file)
    return value


def _nace_digits(part: str, where: str) -> str:
    digits = part.strip().replace(".", "")
    dotted_ok = part.count(".") <= 1 and (("." not in part) or part.index(".") == 2)
    if not digits.isdigit() or len(digits) not in (2, 3, 4) or not dotted_ok:
        raise ValidationError(f"malformed NACE code {part!r}", location=where)
    return digits


def _parse_hint(text: str, generic: set[str], legal: set[str], where: str) -> NaceHint:
    low_text, sep, high_text = text.partition("-")
    low = _nace_digits(low_text, where)
    high = _nace_digits(high_text, where) if sep else low
    if len(low) != len(high) or low > high:
        raise ValidationError(f"malformed NACE range {text!r}", location=where)
    return NaceHint(text=text, low=low, high=high, generic=text in generic, legal=text in legal)


def _row_hints(item: Mapping[str, Any], suffix: str, where: str) -> tuple[NaceHint, ...]:
    hint_texts = _str_list(item, "nace" + suffix, where)
    generic = set(_str_list(item, "generic" + suffix, where))
    legal = set(_str_list(item, "legal" + suffix, where))
    stray = (generic | legal) - set(hint_texts)
    if stray:
        raise ValidationError(
            f"flags name hints not in 'nace{suffix}': {sorted(stray)}", location=where
        )
    if not hint_texts:
        raise ValidationError(f"'nace{suffix}' needs at least one NACE hint", location=where)
    return tuple(_parse_hint(t, generic, legal, where) for t in hint_texts)


def _load_toml(name: str) -> dict[str, Any]:
    data = resources.files("nca_share.sectors").joinpath("data").joinpath(name).read_text("utf-8")
    try:
        return tomllib.loads(data)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(str(exc), location=name) from exc


def _load_nace_stix(
    doc: Mapping[str, Any], table: str, vocab: Mapping[str, StixSector]
) -> dict[str, tuple[str, ...]]:
    file = "stix.toml"
    nace_raw = doc.get(table)
    if not isinstance(nace_raw, dict):
        raise ValidationError(f"missing [{table}] table", location=file)
    nace: dict[str, tuple[str, ...]] = {}
    for prefix, values in nace_raw.items():
        where = _where(file, table, key=prefix)
        if not prefix.isdigit() or len(prefix) not in (2, 3, 4):
            raise ValidationError("NACE prefix must be 2-4 digits", location=where)
        if not isinstance(values, list) or not values:
            raise ValidationError("expected a non-empty list of STIX values", location=where)
        bad = [v for v in values if v not in vocab]
        if bad:
            raise ValidationError(f"unknown STIX values {bad}", location=where)
        nace[prefix] = tuple(values)
    return nace


def _load_stix(
    doc: Mapping[str, Any],
) -> tuple[
    dict[str, StixSector],
    dict[str, tuple[str, ...]],
    dict[str, tuple[str, ...]],
    dict[str, frozenset[str]],
]:
    file = "stix.toml"
    raw = doc.get("sector")
    if not isinstance(raw, dict) or not raw:
        raise ValidationError("missing [sector] table", location=file)
    without = set(_str_list(doc, "without_nis2", _where(file, "without_nis2")))
    unknown = without - set(raw)
    if unknown:
        raise ValidationError(f"without_nis2 names unknown values {sorted(unknown)}", location=file)
    vocab: dict[str, StixSector] = {}
    for value, labels in raw.items():
        where = _where(file, "sector", key=value)
        if not isinstance(labels, dict):
            raise ValidationError("expected { nl = ..., en = ... }", location=where)
        vocab[value] = StixSector(
            value=value,
            label_nl=_req_str(labels, "nl", where),
            label_en=_req_str(labels, "en", where),
            has_nis2=value not in without,
        )
    nace = _load_nace_stix(doc, "nace", vocab)
    nace_2025 = nace | _load_nace_stix(doc, "nace_2025", vocab)
    narrower_raw = doc.get("narrower", {})
    if not isinstance(narrower_raw, dict):
        raise ValidationError("[narrower] must be a table", location=file)
    narrower: dict[str, frozenset[str]] = {}
    for value in narrower_raw:
        where = _where(file, "narrower", key=value)
        parts = _str_list(narrower_raw, value, where)
        bad = [v for v in (value, *parts) if v not in vocab]
        if bad or not parts:
            raise ValidationError(f"unknown or missing STIX values {bad}", location=where)
        narrower[value] = frozenset(parts)
    return vocab, nace, nace_2025, narrower


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """The loaded, validated taxonomy. Obtain it with :func:`load_taxonomy` (cached)."""

    sectors: Mapping[str, Nis2Sector]
    entity_types: Mapping[str, EntityType]
    rows: tuple[MappingRow, ...]
    stix: Mapping[str, StixSector]
    nace_stix: Mapping[str, tuple[str, ...]]  # NACE Rev. 2 prefixes (SBI 2008)
    nace_stix_2025: Mapping[str, tuple[str, ...]]  # NACE Rev. 2.1 prefixes (SBI 2025)
    narrower: Mapping[str, frozenset[str]]

    @classmethod
    def from_documents(
        cls, nis2: Mapping[str, Any], mapping: Mapping[str, Any], stix: Mapping[str, Any]
    ) -> Taxonomy:
        """Build and cross-validate the taxonomy from the three parsed TOML documents.

        :raises ValidationError: a document is malformed; ``location`` names file and entry.
        """
        vocab, nace_stix, nace_stix_2025, narrower = _load_stix(stix)

        sectors: dict[str, Nis2Sector] = {}
        for i, item in enumerate(_table_list(nis2, "sector", "nis2.toml")):
            where = _where("nis2.toml", "sector", i)
            key = _req_str(item, "key", where)
            annex_text = _req_str(item, "annex", where)
            if annex_text not in (a.value for a in Annex) or not key.startswith(annex_text + "."):
                raise ValidationError(f"annex {annex_text!r} does not fit {key!r}", location=where)
            if key in sectors:
                raise ValidationError(f"duplicate sector key {key!r}", location=where)
            public = item.get("public_administration", False)
            if not isinstance(public, bool):
                raise ValidationError("'public_administration' must be a boolean", location=where)
            sectors[key] = Nis2Sector(
                key=key,
                annex=Annex(annex_text),
                sector_nl=_req_str(item, "sector_nl", where),
                sector_en=_req_str(item, "sector_en", where),
                subsector_nl=_opt_str(item, "subsector_nl", where),
                subsector_en=_opt_str(item, "subsector_en", where),
                public_administration=public,
            )
            if (sectors[key].subsector_nl is None) != (sectors[key].subsector_en is None):
                raise ValidationError("sub-sector needs both nl and en", location=where)

        types: dict[str, EntityType] = {}
        for i, item in enumerate(_table_list(nis2, "entity_type", "nis2.toml")):
            where = _where("nis2.toml", "entity_type", i)
            slug = _req_str(item, "slug", where)
            if not slug.replace("_", "").isalnum() or slug != slug.lower():
                raise ValidationError(f"slug {slug!r} must be lower_snake_case", location=where)
            if slug in types:
                raise ValidationError(f"duplicate entity type {slug!r}", location=where)
            key_or_none = _opt_str(item, "key", where)
            if key_or_none is not None and key_or_none not in sectors:
                raise ValidationError(f"unknown NIS2 key {key_or_none!r}", location=where)
            types[slug] = EntityType(
                slug=slug,
                nis2_key=key_or_none,
                label_nl=_req_str(item, "nl", where),
                label_en=_req_str(item, "en", where),
                article=_opt_str(item, "article", where),
            )
        keys_without_types = set(sectors) - {t.nis2_key for t in types.values()}
        if keys_without_types:
            raise ValidationError(
                f"NIS2 keys without entity types: {sorted(keys_without_types)}",
                location="nis2.toml",
            )

        rows: list[MappingRow] = []
        for i, item in enumerate(_table_list(mapping, "row", "mapping.toml")):
            where = _where("mapping.toml", "row", i)
            row_id = _req_str(item, "id", where)
            key = _req_str(item, "key", where)
            if key not in sectors:
                raise ValidationError(f"unknown NIS2 key {key!r}", location=where)
            if any(r.id == row_id for r in rows):
                raise ValidationError(f"duplicate row id {row_id!r}", location=where)
            row_types = _str_list(item, "entity_types", where)
            for slug in row_types:
                if slug not in types or types[slug].nis2_key != key:
                    raise ValidationError(f"entity type {slug!r} is not of {key}", location=where)
            hints = _row_hints(item, "", where)
            hints_2025 = _row_hints(item, "_2025", where) if "nace_2025" in item else hints
            stix_values = frozenset(_str_list(item, "stix", where))
            partial = frozenset(_str_list(item, "stix_partial", where))
            for value in stix_values | partial:
                if value not in vocab:
                    raise ValidationError(f"unknown STIX value {value!r}", location=where)
            for value in stix_values:
                if not vocab[value].has_nis2:
                    raise ValidationError(
                        f"{value!r} has no NIS2 counterpart: use stix_partial", location=where
                    )
            if not stix_values or stix_values & partial:
                raise ValidationError("'stix' must be non-empty and disjoint", location=where)
            not_derivable = item.get("not_derivable", False)
            if not isinstance(not_derivable, bool):
                raise ValidationError("'not_derivable' must be a boolean", location=where)
            note_nl = _opt_str(item, "note_nl", where)
            note_en = _opt_str(item, "note_en", where)
            if (note_nl is None) != (note_en is None):
                raise ValidationError("a note needs both nl and en", location=where)
            rows.append(
                MappingRow(
                    id=row_id,
                    nis2_key=key,
                    entity_types=row_types,
                    nace=hints,
                    nace_2025=hints_2025,
                    stix=stix_values,
                    stix_partial=partial,
                    note_nl=note_nl,
                    note_en=note_en,
                    not_derivable=not_derivable,
                    lex_specialis=_opt_str(item, "lex_specialis", where),
                )
            )
        unmapped = set(sectors) - {r.nis2_key for r in rows}
        if unmapped:
            raise ValidationError(
                f"NIS2 keys without a mapping row: {sorted(unmapped)}", location="mapping.toml"
            )
        for key in sectors:
            narrowed = [r for r in rows if r.nis2_key == key and r.entity_types]
            if narrowed:
                covered = {s for r in narrowed for s in r.entity_types}
                missing = {t.slug for t in types.values() if t.nis2_key == key} - covered
                if missing:
                    raise ValidationError(
                        f"rows of {key} split by entity type but miss {sorted(missing)}",
                        location="mapping.toml",
                    )
        return cls(
            sectors=sectors,
            entity_types=types,
            rows=tuple(rows),
            stix=vocab,
            nace_stix=nace_stix,
            nace_stix_2025=nace_stix_2025,
            narrower=narrower,
        )

    # ------------------------------------------------------------------ look-ups

    def sector(self, key: str) -> Nis2Sector:
        """:raises NotFound: ``key`` is no NIS2 key."""
        try:
            return self.sectors[key]
        except KeyError:
            raise NotFound(f"unknown NIS2 sector key {str(key)[:40]!r}") from None

    def entity_type(self, slug: str) -> EntityType:
        """:raises NotFound: ``slug`` is no NIS2 entity type."""
        try:
            return self.entity_types[slug]
        except KeyError:
            raise NotFound(f"unknown NIS2 entity type {str(slug)[:60]!r}") from None

    def rows_for_key(self, key: str) -> tuple[MappingRow, ...]:
        self.sector(key)
        return tuple(r for r in self.rows if r.nis2_key == key)

    def types_for_key(self, key: str) -> tuple[EntityType, ...]:
        self.sector(key)
        return tuple(t for t in self.entity_types.values() if t.nis2_key == key)

    def hints_for_sbi(self, code: str, sbi_version: str | SbiVersion) -> list[SectorHint]:
        version = SbiVersion.parse(sbi_version)
        digits = nace_class_for_sbi(code)
        found: list[tuple[MappingRow, NaceHint, bool]] = []
        for row in self.rows:
            # One hint per row: prefer an exact match over a broader-code overlap.
            best: tuple[NaceHint, bool] | None = None
            for hint in row.hints(version):
                result = hint.match(digits)
                if result is True:
                    best = (hint, True)
                    break
                if result is None and best is None:
                    best = (hint, False)
            if best is not None:
                found.append((row, best[0], best[1]))
        keys = {row.nis2_key for row, _, _ in found}
        hints: list[SectorHint] = []
        for row, hint, exact in found:
            flags: set[HintFlag] = set()
            if hint.generic:
                flags.add(HintFlag.GENERIC_CODE)
            if hint.legal:
                flags.add(HintFlag.LEGAL_TEST)
            if row.not_derivable:
                flags.add(HintFlag.NOT_DERIVABLE)
            if len(keys) > 1:
                flags.add(HintFlag.MULTIPLE_KEYS)
            if not exact:
                flags.add(HintFlag.BROADER_CODE)
            if version.approximate:
                flags.add(HintFlag.APPROXIMATE_VERSION)
            if row.note_en is not None:
                flags.add(HintFlag.SECTOR_NOTE)
            if row.lex_specialis is not None:
                flags.add(HintFlag.LEX_SPECIALIS)
            entity_types = row.entity_types or tuple(
                t.slug for t in self.types_for_key(row.nis2_key)
            )
            hints.append(
                SectorHint(
                    nis2_key=row.nis2_key,
                    row_id=row.id,
                    entity_types=entity_types,
                    sbi_code=code.strip(),
                    nace_class=_dotted(digits),
                    nace_hint=hint.text,
                    flags=frozenset(flags),
                    note_nl=row.note_nl,
                    note_en=row.note_en,
                )
            )
        return hints

    def stix_for_nace(
        self, digits: str, version: SbiVersion = SbiVersion.SBI_2008
    ) -> tuple[str, ...]:
        """STIX sectors for NACE digits by longest matching prefix (empty when none)."""
        table = self.nace_stix if version is SbiVersion.SBI_2008 else self.nace_stix_2025
        for length in range(min(len(digits), 4), 1, -1):
            values = table.get(digits[:length])
            if values is not None:
                return values
        return ()

    def stix_sectors_for(
        self,
        nis2_keys: Iterable[str],
        sbi_codes: Iterable[str],
        *,
        entity_types: Iterable[str] = (),
        sbi_version: str | SbiVersion = SbiVersion.SBI_2025,
    ) -> set[str]:
        version = SbiVersion.parse(sbi_version)
        slugs = set(entity_types)
        for slug in slugs:
            self.entity_type(slug)
        result: set[str] = set()
        keys = set(nis2_keys) | set(annex_keys_for(slugs, taxonomy=self))
        for key in keys:
            rows = self.rows_for_key(key)
            selected = [r for r in rows if set(r.entity_types) & slugs]
            for row in selected or rows:
                result |= row.stix
        for code in sbi_codes:
            result |= set(self.stix_for_nace(nace_class_for_sbi(code), version))
        return result

    def nis2_keys_for_stix_sector(self, value: str, *, include_partial: bool = False) -> set[str]:
        value = value.strip().lower()
        wanted = {value} | self.narrower.get(value, frozenset())
        return {
            r.nis2_key
            for r in self.rows
            if wanted & r.stix or (include_partial and wanted & r.stix_partial)
        }


def _dotted(digits: str) -> str:
    return digits if len(digits) <= 2 else f"{digits[:2]}.{digits[2:]}"


def nace_class_for_sbi(code: str) -> str:
    """The NACE digits (no dot) an SBI code stands for: its first four digits.

    SBI codes have 2-5 digits (5th digit is Dutch); dots and spaces are ignored.

    :raises ValidationError: the code is not an SBI code.
    """
    if not isinstance(code, str):
        raise ValidationError("SBI code must be text (leading zeros matter)", location="sbi_code")
    text = code.strip().replace(".", "").replace(" ", "")
    if not text.isascii() or not text.isdigit() or not 2 <= len(text) <= 5:
        raise ValidationError(
            f"SBI code {code[:20]!r} must have 2 to 5 digits", location="sbi_code"
        )
    return text[:4]


@functools.cache
def load_taxonomy() -> Taxonomy:
    """Load and validate the packaged taxonomy once per process.

    :raises ValidationError: a packaged data file is broken (a bug, reported with its place).
    """
    taxonomy = Taxonomy.from_documents(
        _load_toml("nis2.toml"), _load_toml("mapping.toml"), _load_toml("stix.toml")
    )
    log.debug(
        "sector taxonomy loaded: %d sectors, %d entity types, %d mapping rows",
        len(taxonomy.sectors),
        len(taxonomy.entity_types),
        len(taxonomy.rows),
    )
    return taxonomy


# --------------------------------------------------------------------------- module API


def nis2_sector(key: str) -> Nis2Sector:
    """The NIS2 sector for ``key`` (``"I.1a"`` … ``"II.7"``).

    :raises NotFound: unknown key.
    """
    return load_taxonomy().sector(key)


def entity_type(slug: str) -> EntityType:
    """The NIS2 entity type for ``slug`` (``"electricity_dso"``, ``"qualified_tsp"`` …).

    :raises NotFound: unknown slug.
    """
    return load_taxonomy().entity_type(slug)


def entity_types_for_key(key: str) -> tuple[EntityType, ...]:
    """Every entity type of a NIS2 key, in data order.

    :raises NotFound: unknown key.
    """
    return load_taxonomy().types_for_key(key)


def annex_keys_for(entity_types: Iterable[str], *, taxonomy: Taxonomy | None = None) -> set[str]:
    """The NIS2 keys the given entity types belong to (types outside the annexes add none).

    :raises NotFound: an unknown slug.
    """
    tax = taxonomy or load_taxonomy()
    keys: set[str] = set()
    for slug in entity_types:
        key = tax.entity_type(slug).nis2_key
        if key is not None:
            keys.add(key)
    return keys


def hints_for_sbi(code: str, sbi_version: str | SbiVersion) -> list[SectorHint]:
    """Candidate NIS2 keys for one SBI code, with ambiguity flags: hints, never a verdict.

    :param code: the SBI code as text (``"3513"``, ``"35.13"``, ``"62011"``).
    :param sbi_version: ``"2008"`` or ``"2025"``; hints from SBI 2025 are flagged approximate.
    :raises ValidationError: malformed code or version.
    """
    return load_taxonomy().hints_for_sbi(code, sbi_version)


def stix_sectors_for(
    nis2_keys: Iterable[str],
    sbi_codes: Iterable[str],
    *,
    entity_types: Iterable[str] = (),
    sbi_version: str | SbiVersion = SbiVersion.SBI_2025,
) -> set[str]:
    """The STIX ``industry-sector-ov`` values derived for a company, for matching.

    Union of the mapping's ``stix`` values of each NIS2 key (and of the keys of
    ``entity_types``; for I.8 the entity types pick the network or the digital row) and the
    STIX values our NACE table gives for each SBI code (also for non-NIS2 companies).
    Partial values (e.g. ``nuclear`` for electricity) are never derived. ``sbi_version`` says
    how to read the SBI codes (default 2025: KVK re-coded every company in September 2025).

    :raises NotFound: unknown NIS2 key or entity type.
    :raises ValidationError: a malformed SBI code or version.
    """
    return load_taxonomy().stix_sectors_for(
        nis2_keys, sbi_codes, entity_types=entity_types, sbi_version=sbi_version
    )


def nis2_keys_for_stix_sector(value: str, *, include_partial: bool = False) -> set[str]:
    """The NIS2 keys whose derived STIX sectors include ``value`` (empty for values without a
    NIS2 counterpart and for custom values). A broader value counts its narrower ones
    (``government`` → the keys of ``government-national`` and ``government-regional``).
    ``include_partial`` also returns keys the value fits only partly (``nuclear`` → I.1a,
    ``defense`` → II.5f, ``government-local`` → I.2d)."""
    return load_taxonomy().nis2_keys_for_stix_sector(value, include_partial=include_partial)
