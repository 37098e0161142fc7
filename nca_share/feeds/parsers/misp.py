"""MISP events (as published in MISP feeds: ``manifest.json`` + one ``<uuid>.json`` per event) →
STIX 2.1.

Mapping (our own; it follows the spirit of MISP's misp-stix without copying it):

* an attribute of a network or file type → an ``indicator`` when ``to_ids`` is set, else an
  observable (SCO); composite types (``domain|ip``, ``filename|sha256``, ``ip-dst|port``) give
  one object per value they carry. Attributes inside MISP objects are mapped the same way.
  ``link`` attributes become external references of the report; other types (text, comment,
  regkey, attachment, …) are not mapped and counted as skipped;
* galaxy clusters (and ``misp-galaxy:`` tags without a galaxy block) → ``malware``,
  ``intrusion-set``, ``tool`` or ``attack-pattern``;
* ``tlp:*`` tags → TLP 2.0 markings (event tags for everything, an attribute's own tag where it
  is stricter); no TLP tag → the feed's default applies at ingest;
* a deleted ``to_ids`` attribute → its indicator with ``revoked: true`` (so a re-published
  event revokes what an earlier delivery stored);
* the event → a ``report`` whose ``object_refs`` tie it all, created by an ``identity`` for the
  creating organisation; other tags become report labels.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from nca_share.feeds.parsers import ParseResult, RecordProblem, as_dict
from nca_share.feeds.stixgen import (
    TLP_MARKING_IDS,
    guess_kind,
    normalise_tlp,
    normalise_value,
    parse_timestamp,
    pattern_for,
    sco_for,
    sco_id,
    sdo_id,
    stix_timestamp,
    strictest_tlp,
)

#: MISP attribute type → the observable kinds of its ``|``-separated parts (``None``: not mapped
#: part, e.g. the file name or port).
ATTRIBUTE_KINDS: dict[str, tuple[str | None, ...]] = {
    "ip-src": ("ip",),
    "ip-dst": ("ip",),
    "ip-src|port": ("ip", None),
    "ip-dst|port": ("ip", None),
    "domain": ("domain",),
    "hostname": ("domain",),
    "domain|ip": ("domain", "ip"),
    "hostname|port": ("domain", None),
    "url": ("url",),
    "uri": ("url",),
    "md5": ("md5",),
    "sha1": ("sha1",),
    "sha256": ("sha256",),
    "sha512": ("sha512",),
    "filename|md5": (None, "md5"),
    "filename|sha1": (None, "sha1"),
    "filename|sha256": (None, "sha256"),
    "filename|sha512": (None, "sha512"),
    "email": ("email",),
    "email-src": ("email",),
    "email-dst": ("email",),
    "whois-registrant-email": ("email",),
}

#: MISP galaxy type → STIX type.
GALAXY_TYPES: dict[str, str] = {
    "threat-actor": "intrusion-set",
    "mitre-intrusion-set": "intrusion-set",
    "intrusion-set": "intrusion-set",
    "mitre-enterprise-attack-intrusion-set": "intrusion-set",
    "malware": "malware",
    "mitre-malware": "malware",
    "mitre-enterprise-attack-malware": "malware",
    "banker": "malware",
    "ransomware": "malware",
    "rat": "malware",
    "botnet": "malware",
    "stealer": "malware",
    "backdoor": "malware",
    "android": "malware",
    "exploit-kit": "malware",
    "tool": "tool",
    "mitre-tool": "tool",
    "mitre-enterprise-attack-tool": "tool",
    "mitre-attack-pattern": "attack-pattern",
    "mitre-enterprise-attack-attack-pattern": "attack-pattern",
    "attack-pattern": "attack-pattern",
}

_GALAXY_TAG = re.compile(r'^misp-galaxy:(?P<type>[^=]+)="(?P<value>.+)"$')
_ATTACK_ID = re.compile(r"\b(T\d{4}(?:\.\d{3})?)\b")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iter_events(document: Any) -> list[dict[str, Any]]:
    """The events in a MISP JSON document: ``{"Event": …}``, ``{"response": [{"Event": …}]}``,
    a list of those, or a bare event.

    :raises ValueError: nothing that looks like a MISP event.
    """
    if isinstance(document, list):
        events: list[dict[str, Any]] = []
        for item in document:
            events.extend(iter_events(item))
        return events
    if not isinstance(document, dict):
        raise ValueError("a MISP event must be a JSON object")
    if "response" in document:
        return iter_events(document["response"])
    if "Event" in document and isinstance(document["Event"], dict):
        return [document["Event"]]
    if "uuid" in document and ("Attribute" in document or "info" in document):
        return [document]
    raise ValueError("no MISP event found (expected an 'Event' object)")


def _tags(holder: dict[str, Any]) -> list[str]:
    tags = holder.get("Tag") or []
    return [str(t.get("name", "")) for t in tags if isinstance(t, dict) and t.get("name")]


def _tlp_of(tags: list[str]) -> str | None:
    return strictest_tlp([t for t in (normalise_tlp(tag) for tag in tags) if t])


def _time(value: Any, fallback: datetime) -> datetime:
    if value is None or value == "":
        return fallback
    parsed = parse_timestamp(str(value))
    return parsed or fallback


def _markings(tlp: str | None) -> dict[str, Any]:
    return {"object_marking_refs": [TLP_MARKING_IDS[tlp]]} if tlp else {}


class _EventMapper:
    """Maps one event; keeps what it produced so the report can reference it."""

    def __init__(self, event: dict[str, Any], location: str) -> None:
        self.event = event
        self.location = location
        self.result = ParseResult()
        self.refs: list[str] = []
        self.seen: set[str] = set()
        self.skipped = 0
        self.event_tags = _tags(event)
        self.event_tlp = _tlp_of(self.event_tags)
        self.event_time = _time(event.get("timestamp"), _EPOCH)
        self.links: list[dict[str, str]] = []
        self.identity_id: str | None = None
        #: indicators revoked by deleted attributes (kept out of the report's refs)
        self.revoked: set[str] = set()

    def add(self, obj: dict[str, Any]) -> None:
        if obj["id"] in self.seen:
            return
        self.seen.add(obj["id"])
        self.result.objects.append(obj)
        self.refs.append(obj["id"])

    def sdo_common(self, when: datetime, tlp: str | None) -> dict[str, Any]:
        stamp = stix_timestamp(when)
        common: dict[str, Any] = {"spec_version": "2.1", "created": stamp, "modified": stamp}
        if self.identity_id:
            common["created_by_ref"] = self.identity_id
        common.update(_markings(tlp))
        return common

    def map(self) -> ParseResult:
        event = self.event
        try:
            event_uuid = str(uuid.UUID(str(event.get("uuid"))))
        except ValueError:
            self.result.problems.append(
                RecordProblem(self.location, f"event uuid {event.get('uuid')!r} is not a UUID")
            )
            return self.result
        orgc = event.get("Orgc") if isinstance(event.get("Orgc"), dict) else None
        if orgc and orgc.get("name"):
            self.identity_id = self._identity(orgc)
        for index, attribute in enumerate(event.get("Attribute") or []):
            self._attribute(attribute, f"{self.location} Attribute[{index}]", [])
        for o_index, misp_object in enumerate(event.get("Object") or []):
            if not isinstance(misp_object, dict) or misp_object.get("deleted"):
                continue
            object_tags = _tags(misp_object)
            for a_index, attribute in enumerate(misp_object.get("Attribute") or []):
                self._attribute(
                    attribute,
                    f"{self.location} Object[{o_index}].Attribute[{a_index}]",
                    object_tags,
                )
        self._galaxies()
        self._report(event_uuid)
        return self.result

    def _identity(self, orgc: dict[str, Any]) -> str:
        name = str(orgc["name"])
        try:
            identity_id = f"identity--{uuid.UUID(str(orgc.get('uuid')))}"
        except ValueError:
            identity_id = sdo_id("identity", "misp-org", name.lower())
        stamp = stix_timestamp(_EPOCH)
        self.add(
            {
                "type": "identity",
                "spec_version": "2.1",
                "id": identity_id,
                "created": stamp,
                "modified": stamp,
                "name": name,
                "identity_class": "organization",
            }
        )
        return identity_id

    def _attribute(self, attribute: Any, location: str, parent_tags: list[str]) -> None:
        if not isinstance(attribute, dict):
            self.result.problems.append(RecordProblem(location, "attribute is not an object"))
            return
        deleted = attribute.get("deleted") in (True, "1", 1)
        if deleted and attribute.get("to_ids") not in (True, "1", 1, "true"):
            return
        misp_type = str(attribute.get("type", ""))
        value = str(attribute.get("value", ""))
        if misp_type == "link":
            if value:
                self.links.append({"source_name": "misp-link", "url": value})
            return
        kinds = ATTRIBUTE_KINDS.get(misp_type)
        if kinds is None:
            self.skipped += 1
            return
        parts = value.split("|") if len(kinds) > 1 else [value]
        if len(parts) != len(kinds):
            self.result.problems.append(
                RecordProblem(location, f"{misp_type} value {value!r} has {len(parts)} parts")
            )
            return
        tlp = strictest_tlp(
            [t for t in (self.event_tlp, _tlp_of(parent_tags), _tlp_of(_tags(attribute))) if t]
        )
        when = _time(attribute.get("timestamp"), self.event_time)
        valid_from = _time(attribute.get("first_seen"), when)
        to_ids = attribute.get("to_ids") in (True, "1", 1, "true")
        attr_uuid = str(attribute.get("uuid") or "")
        filename = parts[0] if kinds[0] is None and misp_type.startswith("filename|") else None
        for kind, part in zip(kinds, parts, strict=True):
            if kind is None:
                continue
            try:
                resolved = kind
                if kind == "ip":
                    resolved = guess_kind(part.strip()) or "ip"
                    if resolved not in ("ipv4", "ipv6"):
                        raise ValueError(f"{part!r} is not an IP address")
                normalised = normalise_value(resolved, part)
            except ValueError as exc:
                self.result.problems.append(RecordProblem(location, str(exc), value[:300]))
                continue
            if deleted or to_ids:
                # A deleted to_ids attribute revokes the indicator an earlier delivery made.
                self._indicator(
                    attribute,
                    attr_uuid,
                    resolved,
                    normalised,
                    when,
                    valid_from,
                    tlp,
                    misp_type,
                    filename,
                    single=len([k for k in kinds if k]) == 1,
                    revoked=deleted,
                )
            else:
                sco = sco_for(resolved, normalised)
                if filename and sco["type"] == "file":
                    sco["name"] = filename
                    sco["id"] = sco_id("file", {"hashes": sco["hashes"], "name": filename})
                sco.update(_markings(tlp))
                self.add(sco)

    def _indicator(
        self,
        attribute: dict[str, Any],
        attr_uuid: str,
        kind: str,
        value: str,
        when: datetime,
        valid_from: datetime,
        tlp: str | None,
        misp_type: str,
        filename: str | None,
        *,
        single: bool,
        revoked: bool = False,
    ) -> None:
        try:
            base_id = f"indicator--{uuid.UUID(attr_uuid)}"
        except ValueError:
            base_id = sdo_id("indicator", "misp", self.location, kind, value)
        indicator_id = base_id if single else sdo_id("indicator", attr_uuid, kind)
        indicator: dict[str, Any] = {
            "type": "indicator",
            "id": indicator_id,
            **self.sdo_common(when, tlp),
            "name": f"{filename} ({value})" if filename else value,
            "pattern": pattern_for(kind, value),
            "pattern_type": "stix",
            "valid_from": stix_timestamp(valid_from),
            "indicator_types": ["malicious-activity"],
            "labels": [f'misp:type="{misp_type}"'],
        }
        category = attribute.get("category")
        if category:
            indicator["labels"].append(f'misp:category="{category}"')
        comment = str(attribute.get("comment") or "").strip()
        if comment:
            indicator["description"] = comment
        last_seen = parse_timestamp(str(attribute.get("last_seen") or ""))
        if last_seen and last_seen > valid_from:
            indicator["valid_until"] = stix_timestamp(last_seen)
        if revoked:
            indicator["revoked"] = True
            self.revoked.add(indicator["id"])
        self.add(indicator)

    def _galaxies(self) -> None:
        clusters: list[tuple[str, dict[str, Any]]] = []
        names: set[tuple[str, str]] = set()
        for galaxy in self.event.get("Galaxy") or []:
            if not isinstance(galaxy, dict):
                continue
            galaxy_type = str(galaxy.get("type", ""))
            for cluster in galaxy.get("GalaxyCluster") or []:
                if isinstance(cluster, dict) and cluster.get("value"):
                    clusters.append((galaxy_type, cluster))
                    names.add((galaxy_type, str(cluster["value"])))
        for tag in self.event_tags:
            match = _GALAXY_TAG.match(tag)
            if match and (match["type"], match["value"]) not in names:
                clusters.append((match["type"], {"value": match["value"]}))
                names.add((match["type"], match["value"]))
        for galaxy_type, cluster in clusters:
            stix_type = GALAXY_TYPES.get(galaxy_type)
            if stix_type is None:
                continue
            name = str(cluster["value"])
            # By name, not by the cluster uuid: older exports repeat the galaxy's uuid on every
            # cluster, and a name-based id makes the same actor from two events one object.
            object_id = sdo_id(stix_type, "misp-galaxy", galaxy_type, name.lower())
            obj: dict[str, Any] = {
                "type": stix_type,
                "id": object_id,
                **self.sdo_common(self.event_time, self.event_tlp),
                "name": name,
            }
            if stix_type == "malware":
                obj["is_family"] = True
            description = cluster.get("description")
            if description:
                obj["description"] = str(description)
            meta = as_dict(cluster.get("meta"))
            synonyms = [str(s) for s in (meta.get("synonyms") or []) if s]
            if synonyms and stix_type in ("intrusion-set", "malware", "tool"):
                obj["aliases"] = synonyms
            refs: list[dict[str, str]] = []
            if stix_type == "attack-pattern":
                external = meta.get("external_id")
                ids = [str(e) for e in external] if isinstance(external, list) else []
                ids += _ATTACK_ID.findall(name)
                for attack_id in dict.fromkeys(ids):
                    refs.append({"source_name": "mitre-attack", "external_id": attack_id})
            for url in [str(r) for r in (meta.get("refs") or []) if r][:20]:
                refs.append({"source_name": "misp-galaxy", "url": url})
            if refs:
                obj["external_references"] = refs
            self.add(obj)

    def _report(self, event_uuid: str) -> None:
        published = (
            _time(event.get("publish_timestamp"), self.event_time)
            if (event := self.event).get("publish_timestamp") not in (None, "", "0")
            else _time(event.get("date"), self.event_time)
        )
        labels = [
            tag
            for tag in self.event_tags
            if normalise_tlp(tag) is None and not _GALAXY_TAG.match(tag)
        ]
        report: dict[str, Any] = {
            "type": "report",
            "id": f"report--{event_uuid}",
            **self.sdo_common(self.event_time, self.event_tlp),
            "name": str(event.get("info") or f"MISP event {event_uuid}")[:1000],
            "published": stix_timestamp(published),
            "report_types": ["threat-report"],
            "object_refs": [r for r in self.refs if r not in self.revoked]
            or [f"report--{event_uuid}"],
            "external_references": [{"source_name": "misp", "external_id": event_uuid}]
            + self.links,
        }
        if labels:
            report["labels"] = labels
        self.result.objects.append(report)


def map_misp_document(document: Any, *, location: str = "event") -> ParseResult:
    """Map every event in one MISP JSON document to STIX 2.1 (see the module docstring)."""
    result = ParseResult()
    try:
        events = iter_events(document)
    except ValueError as exc:
        result.problems.append(RecordProblem(location, str(exc)))
        return result
    for index, event in enumerate(events):
        where = location if len(events) == 1 else f"{location}[{index}]"
        result.extend(_EventMapper(event, where).map())
    return result
