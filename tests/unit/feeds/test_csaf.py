"""CSAF 2.0 → STIX 2.1 and validation with the csaf package."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nca_share.feeds.parsers.csaf import map_csaf_document, validate_csaf

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data"
CASES = SHARED / "oasis-csaf" / "validator-testcases"


def _mandatory_cases() -> list[tuple[str, bool]]:
    index = json.loads((CASES / "testcases.json").read_text())
    cases: list[tuple[str, bool]] = []
    for test in index["tests"]:
        if test["group"] != "mandatory":
            continue
        for kind in ("failures", "valid"):
            cases.extend((c["name"], c["valid"]) for c in test.get(kind, []))
    return cases


MANDATORY = _mandatory_cases()


@pytest.mark.parametrize(("name", "valid"), MANDATORY, ids=[n for n, _ in MANDATORY])
def test_oasis_mandatory_cases(name: str, valid: bool) -> None:
    """Every OASIS mandatory test case: must-fail ones give messages, must-pass ones none."""
    messages = validate_csaf(json.loads((CASES / name).read_text()))
    assert (messages == []) is valid, messages


def test_invalid_messages_say_test_and_place() -> None:
    """A message names the failed test and the JSON pointer."""
    doc = json.loads((CASES / "mandatory/oasis_csaf_tc-csaf_2_0-2021-6-1-01-01.json").read_text())
    assert validate_csaf(doc)[0].startswith("6.1.1 Missing Definition of Product ID: /product_tree")
    assert validate_csaf([1, 2]) == ["schema: a CSAF document must be a JSON object"]


def _count_status(doc: dict[str, Any], categories: tuple[str, ...]) -> int:
    tree = doc["product_tree"]
    defined = {p["product_id"] for p in _all_products(tree)} | {
        r["full_product_name"]["product_id"] for r in tree.get("relationships", [])
    }
    return sum(
        len([p for p in v.get("product_status", {}).get(c, []) if p in defined])
        for v in doc.get("vulnerabilities", [])
        for c in categories
    )


@pytest.mark.parametrize(
    "path",
    [
        SHARED / "cisa-csaf/csaf_files/OT/white/2024/icsa-24-095-02.json",
        SHARED / "redhat-csaf-vex/rhsa-2021_3029.json",
    ],
    ids=["cisa", "redhat"],
)
def test_advisory_maps_to_vulnerabilities_products_and_report(path: Path) -> None:
    """One vulnerability per CVE with CVSS; relationships per product status; a report with
    the TLP marking on every object."""
    doc = json.loads(path.read_text())
    result = map_csaf_document(doc, source_url=str(path))
    objects = result.objects
    vulns = [o for o in objects if o["type"] == "vulnerability"]
    cves = {v["cve"] for v in doc["vulnerabilities"] if v.get("cve")}
    assert {v["name"] for v in vulns if v["name"].startswith("CVE-")} >= cves
    assert all(
        v.get("x_cvss")
        for v in vulns
        if any(s.get("cvss_v3") for d in doc["vulnerabilities"] for s in d.get("scores", []))
    )
    rels = [o for o in objects if o["type"] == "relationship"]
    affected = ("known_affected", "first_affected", "last_affected")
    assert sum(r["relationship_type"] == "affects" for r in rels) == _count_status(doc, affected)
    assert sum(r["relationship_type"] == "fixed-in" for r in rels) == _count_status(
        doc, ("fixed", "first_fixed")
    )
    software = {o["id"]: o for o in objects if o["type"] == "software"}
    assert {r["target_ref"] for r in rels} == set(software)
    report = next(o for o in objects if o["type"] == "report")
    assert report["x_csaf_tracking_id"] == doc["document"]["tracking"]["id"]
    assert set(report["object_refs"]) == {o["id"] for o in objects if o is not report}
    clear = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
    assert all(o["object_marking_refs"] == [clear] for o in objects if o["type"] != "identity")


def test_redhat_products_carry_cpe_and_purl() -> None:
    """Product identification helpers become software.cpe and x_purl."""
    doc = json.loads((SHARED / "redhat-csaf-vex/rhsa-2023_1441.json").read_text())
    doc["vulnerabilities"][0]["product_status"] = {
        "known_affected": [
            p["product_id"]
            for p in _all_products(doc["product_tree"])
            if "purl" in p.get("product_identification_helper", {})
        ][:1]
    }
    objects = map_csaf_document(doc).objects
    software = [o for o in objects if o["type"] == "software"]
    assert software
    assert software[0]["x_purl"].startswith("pkg:")


def _all_products(tree: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    stack = list(tree.get("branches", []))
    while stack:
        branch = stack.pop()
        if "product" in branch:
            found.append(branch["product"])
        stack.extend(branch.get("branches", []))
    return found


def test_garbage_document_is_a_problem() -> None:
    """A non-CSAF document gives a problem and no objects."""
    result = map_csaf_document({"x": 1})
    assert result.objects == []
    assert result.problems
