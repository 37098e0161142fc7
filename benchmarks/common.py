"""Shared helpers of the benchmarks: deterministic synthetic STIX content and timing."""

from __future__ import annotations

import random
import uuid
from typing import Any

from nca_share.stix.tlp import TLP, marking_definition_object, marking_id_for

SECTORS = (
    "energy",
    "financial-services",
    "healthcare",
    "government",
    "telecommunications",
    "transportation",
    "water",
    "manufacturing",
    "technology",
    "education",
)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _ts(rng: random.Random) -> str:
    return (
        f"20{rng.randint(18, 25):02d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        f"T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}."
        f"{rng.randint(0, 999):03d}Z"
    )


def _pattern(rng: random.Random, n: int) -> str:
    kind = n % 8
    if kind == 0:
        return f"[ipv4-addr:value = '{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}']"  # noqa: E501
    if kind == 1:
        return f"[ipv4-addr:value = '{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.0/24']"  # noqa: E501
    if kind == 2:
        return f"[domain-name:value = 'host{n}.example{rng.randint(1, 999)}.com']"
    if kind == 3:
        return f"[url:value = 'http://bad{n}.example.net/path/{rng.randint(1, 10**6)}']"
    if kind == 4:
        return f"[file:hashes.'SHA-256' = '{rng.getrandbits(256):064x}']"
    if kind == 5:
        return f"[file:hashes.MD5 = '{rng.getrandbits(128):032x}']"
    if kind == 6:
        return (
            f"[ipv6-addr:value = '2001:db8:{rng.randint(0, 65535):x}::{rng.randint(1, 65535):x}']"  # noqa: E501
        )
    return (
        f"[ipv4-addr:value = '10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}'"
        f" OR domain-name:value = 'c2-{n}.example.org']"
    )


def synthetic_objects(count: int = 100_000, seed: int = 2026) -> list[dict[str, Any]]:
    """``count`` STIX 2.1 objects: TLP marking definitions, identities with sectors, malware,
    intrusion sets, indicators (ip/cidr/domain/url/hash patterns) and relationships; most
    objects carry a TLP marking, some none (the ingest default applies)."""
    rng = random.Random(seed)
    objects: list[dict[str, Any]] = [marking_definition_object(t) for t in TLP]
    markings = [marking_id_for(t) for t in TLP]
    author = f"identity--{_uuid(rng)}"
    objects.append(
        {
            "type": "identity",
            "spec_version": "2.1",
            "id": author,
            "created": "2024-01-01T00:00:00.000Z",
            "modified": "2024-01-01T00:00:00.000Z",
            "name": "Benchmark CERT",
            "identity_class": "organization",
            "object_marking_refs": [markings[0]],
        }
    )
    remaining = count - len(objects)
    n_identity = remaining * 2 // 100
    n_malware = remaining * 2 // 100
    n_intrusion = remaining // 100
    n_indicator = remaining * 45 // 100
    n_relationship = remaining - n_identity - n_malware - n_intrusion - n_indicator

    def common(otype: str, n: int) -> dict[str, Any]:
        created = _ts(rng)
        obj: dict[str, Any] = {
            "type": otype,
            "spec_version": "2.1",
            "id": f"{otype}--{_uuid(rng)}",
            "created": created,
            "modified": created,
            "created_by_ref": author,
        }
        if n % 10:
            obj["object_marking_refs"] = [markings[n % 5]]
        return obj

    identities, malware, intrusion = [], [], []
    for n in range(n_identity):
        obj = common("identity", n)
        obj.update(
            name=f"Victim organisation {n}",
            identity_class="class",
            sectors=[SECTORS[n % len(SECTORS)], SECTORS[(n * 7) % len(SECTORS)]],
        )
        identities.append(obj)
    for n in range(n_malware):
        obj = common("malware", n)
        obj.update(
            name=f"Malware family {n}",
            is_family=True,
            malware_types=["ransomware" if n % 2 else "remote-access-trojan"],
            description="Synthetic malware family used by the ingest benchmark.",
        )
        malware.append(obj)
    for n in range(n_intrusion):
        obj = common("intrusion-set", n)
        obj.update(name=f"Intrusion set {n}", aliases=[f"APT-{n}", f"Group {n}"])
        intrusion.append(obj)
    indicators = []
    for n in range(n_indicator):
        obj = common("indicator", n)
        obj.update(
            name=f"Indicator {n}",
            pattern=_pattern(rng, n),
            pattern_type="stix",
            valid_from=obj["created"],
            indicator_types=["malicious-activity"],
        )
        indicators.append(obj)
    relationships = []
    for n in range(n_relationship):
        obj = common("relationship", n)
        which = n % 3
        if which == 0:
            source, target, rel = rng.choice(indicators), rng.choice(malware), "indicates"
        elif which == 1:
            source, target, rel = rng.choice(intrusion), rng.choice(malware), "uses"
        else:
            source, target, rel = rng.choice(intrusion), rng.choice(identities), "targets"
        obj.update(relationship_type=rel, source_ref=source["id"], target_ref=target["id"])
        relationships.append(obj)
    objects.extend(identities + malware + intrusion + indicators + relationships)
    return objects
