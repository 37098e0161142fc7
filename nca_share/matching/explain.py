"""Explanations of matches in Dutch and English, e.g. "Uw IP-reeks 192.0.2.0/24 bevat
192.0.2.10, dat Feodo Tracker op 20-11-2026 meldde als command-and-control-server van Pikabot."

Owns :func:`explain`, a pure renderer from a match's facts (dimension, matched value, asset
value, source, date, role, family) to ``(nl, en)`` plain text. Dates are shown in
Europe/Amsterdam (or the configured zone). The texts are plain (not HTML): templates escape
them like any other feed-derived text.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["ROLES", "explain", "format_date"]

#: role key → (Dutch, English) noun phrase for what the source said the value is.
ROLES: dict[str, tuple[str, str]] = {
    "c2": ("command-and-control-server", "command-and-control server"),
    "compromised": ("gecompromitteerd systeem", "compromised system"),
    "malicious-activity": ("kwaadaardige activiteit", "malicious activity"),
    "anomalous-activity": ("afwijkende activiteit", "anomalous activity"),
    "attribution": ("infrastructuur van een bekende actor", "infrastructure of a known actor"),
    "phishing": ("phishing", "phishing"),
    "malware": ("malware-infrastructuur", "malware infrastructure"),
    "exploitation": ("aanvalsbron", "source of attacks"),
    "sighting": ("waarneming", "sighting"),
    "observed": ("waargenomen waarde", "observed value"),
    "indicator": ("indicator", "indicator"),
}

_ASSET_NOUN = {
    "cidr": ("Uw IP-reeks", "Your IP range"),
    "asn": ("Uw AS", "Your AS"),
    "domain": ("Uw domein", "Your domain"),
    "product": ("Uw product", "Your product"),
}


@functools.lru_cache(maxsize=8192)
def format_date(when: datetime | None, timezone: str = "Europe/Amsterdam") -> str:
    """``dd-mm-yyyy`` in ``timezone`` (empty when unknown)."""
    if when is None:
        return ""
    return when.astimezone(ZoneInfo(timezone)).strftime("%d-%m-%Y")


def _reported(facts: dict[str, Any], nl: bool) -> str:
    """The ", dat <source> op <date> meldde als <role> van <family>" tail."""
    source = str(facts.get("source") or ("een bron" if nl else "a source"))
    date = str(facts.get("date") or "")
    role = ROLES.get(str(facts.get("role") or "indicator"), ROLES["indicator"])
    family = str(facts.get("family") or "")
    if nl:
        text = f"dat {source}"
        if date:
            text += f" op {date}"
        text += f" meldde als {role[0]}"
        if family:
            text += f" van {family}"
        return text
    text = f"which {source} reported"
    if date:
        text += f" on {date}"
    text += f" as a {role[1]}"
    if family:
        text += f" of {family}"
    return text


def explain(facts: dict[str, Any]) -> tuple[str, str]:
    """Dutch and English explanation of one match (see the module docstring for the facts)."""
    dimension = facts.get("dimension")
    matched = str(facts.get("matched_value") or "")
    asset = str(facts.get("asset_value") or "")
    if dimension == "network":
        noun_nl, noun_en = _ASSET_NOUN.get(str(facts.get("asset_kind")), _ASSET_NOUN["cidr"])
        if matched == asset:
            nl = f"{noun_nl} {asset} staat in een melding, {_reported(facts, True)}."
            en = f"{noun_en} {asset} is listed, {_reported(facts, False)}."
        elif facts.get("asset_kind") == "domain":
            nl = f"{noun_nl} {asset} omvat {matched}, {_reported(facts, True)}."
            en = f"{noun_en} {asset} covers {matched}, {_reported(facts, False)}."
        else:
            nl = f"{noun_nl} {asset} bevat {matched}, {_reported(facts, True)}."
            en = f"{noun_en} {asset} contains {matched}, {_reported(facts, False)}."
        return nl, en
    source = str(facts.get("source") or "")
    date = str(facts.get("date") or "")
    when_nl = f" (gemeld door {source} op {date})" if source and date else ""
    when_en = f" (reported by {source} on {date})" if source and date else ""
    if dimension == "product":
        cve = str(facts.get("cve") or "")
        versions = str(facts.get("versions") or "")
        what_nl = f"de kwetsbaarheid {cve}" if cve else "een kwetsbaarheid"
        what_en = f"vulnerability {cve}" if cve else "a vulnerability"
        if facts.get("software_only"):
            what_nl, what_en = "een melding over deze software", "a report on this software"
        range_nl = f" (versies {versions})" if versions and versions != "*" else ""
        range_en = f" (versions {versions})" if versions and versions != "*" else ""
        exploited_nl = " Deze kwetsbaarheid wordt actief misbruikt." if facts.get("kev") else ""
        exploited_en = " This vulnerability is actively exploited." if facts.get("kev") else ""
        nl = f"Uw product {asset} valt onder {what_nl}: {matched}{range_nl}{when_nl}."
        en = f"Your product {asset} is affected by {what_en}: {matched}{range_en}{when_en}."
        return nl + exploited_nl, en + exploited_en
    via_nl = f" via {facts['via']}" if facts.get("via") else ""
    via_en = via_nl
    if dimension == "sector":
        nl = f"Uw sector {matched} is doelwit{via_nl}{when_nl}."
        en = f"Your sector {matched} is targeted{via_en}{when_en}."
    elif dimension == "nis2":
        nl = f"Bestemd voor NIS2-entiteiten {matched}{when_nl}."
        en = f"Meant for NIS2 entities {matched}{when_en}."
    elif dimension == "region":
        nl = f"Uw regio {matched} is doelwit{via_nl}{when_nl}."
        en = f"Your region {matched} is targeted{via_en}{when_en}."
    elif dimension == "partnership":
        nl = f"Bestemd voor uw samenwerkingsverband {matched}{when_nl}."
        en = f"Meant for your partnership {matched}{when_en}."
    else:
        nl = f"Overeenkomst op {matched}{when_nl}."
        en = f"Match on {matched}{when_en}."
    return nl, en
