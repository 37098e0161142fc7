"""CSAF 2.0 advisories → STIX 2.1, and their validation.

Validation uses the ``csaf`` package (PyPI ``csaf``, MIT): the CSAF 2.0 JSON schema plus the
mandatory tests of CSAF 2.0 §6.1 (its "basic" preset). It agrees with every mandatory OASIS
validator test case in the shared data. Invalid documents are quarantined by the caller with the
messages returned here.

Mapping of one advisory:

* the publisher → an ``identity`` (``created_by_ref`` of everything else);
* each vulnerability → a ``vulnerability`` (name = the CVE, or the first id / title when there
  is none) with the CVE as external reference, its summary as description, CWE, and every
  CVSS v2/v3 score in ``x_cvss`` (version, vector, base score, severity);
* each product from the product tree (branches, full product names, relationships) →
  a ``software`` SCO with vendor, product name, version (``x_version_range`` for ranges),
  ``cpe`` and ``x_purl`` from the product identification helper;
* product status → ``relationship`` objects from the vulnerability to the software:
  ``affects`` (known/first/last affected, under investigation is left out), ``fixed-in``
  (fixed, first fixed) and ``does-not-affect`` (known not affected), each with the raw CSAF
  category in ``x_csaf_status``;
* the document → a ``report`` tying them all, published at the current release date;
* the document's TLP label (WHITE → CLEAR) marks every object.

The raw CSAF document is not embedded: the collector keeps it in ``feed_csaf_documents``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from nca_share.feeds.parsers import ParseResult, RecordProblem, as_dict
from nca_share.feeds.stixgen import (
    TLP_MARKING_IDS,
    normalise_tlp,
    parse_timestamp,
    sco_id,
    sdo_id,
    stix_timestamp,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

STATUS_RELATIONSHIPS: dict[str, str] = {
    "known_affected": "affects",
    "first_affected": "affects",
    "last_affected": "affects",
    "fixed": "fixed-in",
    "first_fixed": "fixed-in",
    "known_not_affected": "does-not-affect",
}


def validate_csaf(document: Any) -> list[str]:
    """Validate one CSAF 2.0 document (schema + mandatory tests); ``[]`` means valid.

    Every message says which test failed and where (a JSON pointer).
    """
    if not isinstance(document, dict):
        return ["schema: a CSAF document must be a JSON object"]
    from csaf.csaf.v20 import validate  # heavy import: only when validating

    try:
        report = validate(document, preset="basic")
    except Exception as exc:  # the validator must never take the collector down
        return [f"validator: could not validate the document ({type(exc).__name__}: {exc})"]
    messages: list[str] = []
    for result in report.results:
        if result.passed or result.skipped or result.group == "informative":
            continue
        for error in result.errors or ():
            messages.append(f"{result.id} {result.title}: {error.instance_path}: {error.message}")
        if not result.errors:
            messages.append(f"{result.id} {result.title}: failed")
    if not report.overall_valid and not messages:
        messages.append("the document is not valid CSAF 2.0")
    return messages


def _walk_branches(
    branches: Any, context: dict[str, str]
) -> Iterator[tuple[dict[str, Any], dict[str, str]]]:
    if not isinstance(branches, list):
        return
    for branch in branches:
        if not isinstance(branch, dict):
            continue
        here = dict(context)
        category = str(branch.get("category", ""))
        name = str(branch.get("name", ""))
        if category in (
            "vendor",
            "product_name",
            "product_family",
            "product_version",
            "product_version_range",
            "architecture",
            "language",
            "patch_level",
            "service_pack",
            "host_name",
            "legacy",
            "specification",
        ):
            here[category] = name
        product = branch.get("product")
        if isinstance(product, dict) and product.get("product_id"):
            yield product, here
        yield from _walk_branches(branch.get("branches"), here)


def _products(tree: Any) -> dict[str, dict[str, Any]]:
    """product_id → software SCO for every product the tree defines."""
    if not isinstance(tree, dict):
        return {}
    found: dict[str, dict[str, Any]] = {}

    def software(product: dict[str, Any], context: dict[str, str]) -> dict[str, Any]:
        helper = as_dict(product.get("product_identification_helper"))
        name = (
            context.get("product_name")
            or context.get("product_family")
            or str(product.get("name", ""))
        )
        sco: dict[str, Any] = {"type": "software", "spec_version": "2.1", "name": name}
        if context.get("vendor"):
            sco["vendor"] = context["vendor"]
        if context.get("product_version"):
            sco["version"] = context["product_version"]
        if helper.get("cpe"):
            sco["cpe"] = str(helper["cpe"])
        contributing: dict[str, Any] = {
            k: sco[k] for k in ("name", "cpe", "vendor", "version") if k in sco
        }
        if context.get("product_version_range"):
            sco["x_version_range"] = context["product_version_range"]
            contributing["x_version_range"] = context["product_version_range"]
        if helper.get("purl"):
            sco["x_purl"] = str(helper["purl"])
            contributing["x_purl"] = sco["x_purl"]
        if product.get("name") and product.get("name") != name:
            sco["x_product_name"] = str(product["name"])
        sco["id"] = sco_id("software", contributing)
        return sco

    for product, context in _walk_branches(tree.get("branches"), {}):
        found[str(product["product_id"])] = software(product, context)
    for product in tree.get("full_product_names") or []:
        if isinstance(product, dict) and product.get("product_id"):
            found.setdefault(str(product["product_id"]), software(product, {}))
    for relation in tree.get("relationships") or []:
        if not isinstance(relation, dict):
            continue
        product = as_dict(relation.get("full_product_name"))
        if product.get("product_id"):
            base = found.get(str(relation.get("product_reference", "")))
            context = {}
            if base:
                context = {
                    k: v
                    for k, v in (
                        ("vendor", base.get("vendor")),
                        ("product_name", base.get("name")),
                        ("product_version", base.get("version")),
                    )
                    if v
                }
            found.setdefault(str(product["product_id"]), software(product, context))
    return found


def _cvss(vulnerability: dict[str, Any]) -> list[dict[str, Any]]:
    scores: list[dict[str, Any]] = []
    seen: set[str] = set()
    for score in vulnerability.get("scores") or []:
        if not isinstance(score, dict):
            continue
        for key in ("cvss_v3", "cvss_v2"):
            data = score.get(key)
            if not isinstance(data, dict) or not data.get("vectorString"):
                continue
            vector = str(data["vectorString"])
            if vector in seen:
                continue
            seen.add(vector)
            entry: dict[str, Any] = {
                "version": str(data.get("version", "")),
                "vector": vector,
                "base_score": data.get("baseScore"),
            }
            if data.get("baseSeverity"):
                entry["base_severity"] = str(data["baseSeverity"])
            scores.append(entry)
    return scores


def map_csaf_document(document: Any, *, source_url: str = "") -> ParseResult:
    """Map one (valid) CSAF 2.0 advisory to STIX 2.1 (see the module docstring)."""
    result = ParseResult()
    if not isinstance(document, dict) or not isinstance(document.get("document"), dict):
        result.problems.append(RecordProblem(source_url or "document", "not a CSAF document"))
        return result
    meta = document["document"]
    tracking = as_dict(meta.get("tracking"))
    publisher = as_dict(meta.get("publisher"))
    tracking_id = str(tracking.get("id") or source_url)
    namespace = str(publisher.get("namespace") or publisher.get("name") or "unknown")
    initial = parse_timestamp(str(tracking.get("initial_release_date") or "")) or _EPOCH
    current = parse_timestamp(str(tracking.get("current_release_date") or "")) or initial
    created, modified = stix_timestamp(initial), stix_timestamp(max(current, initial))
    distribution = as_dict(meta.get("distribution"))
    tlp_data = as_dict(distribution.get("tlp"))
    tlp = normalise_tlp(str(tlp_data.get("label") or ""))
    markings = {"object_marking_refs": [TLP_MARKING_IDS[tlp]]} if tlp else {}

    identity_id = sdo_id("identity", "csaf-publisher", namespace)
    epoch = stix_timestamp(_EPOCH)
    objects: list[dict[str, Any]] = [
        {
            "type": "identity",
            "spec_version": "2.1",
            "id": identity_id,
            "created": epoch,
            "modified": epoch,
            "name": str(publisher.get("name") or namespace),
            "identity_class": "organization",
            **({"contact_information": namespace} if publisher.get("namespace") else {}),
        }
    ]
    common = {
        "spec_version": "2.1",
        "created": created,
        "modified": modified,
        "created_by_ref": identity_id,
        **markings,
    }
    products = _products(document.get("product_tree"))
    used_products: dict[str, dict[str, Any]] = {}
    refs: list[str] = [identity_id]
    for index, vuln in enumerate(document.get("vulnerabilities") or []):
        if not isinstance(vuln, dict):
            result.problems.append(RecordProblem(f"vulnerabilities[{index}]", "not an object"))
            continue
        cve = str(vuln.get("cve") or "")
        other_ids = [str(i.get("text")) for i in vuln.get("ids") or [] if isinstance(i, dict)]
        name = cve or (
            other_ids[0] if other_ids else str(vuln.get("title") or f"{tracking_id} #{index + 1}")
        )
        vuln_id = sdo_id("vulnerability", namespace, tracking_id, cve or f"#{index}")
        stix_vuln: dict[str, Any] = {"type": "vulnerability", "id": vuln_id, **common, "name": name}
        summaries = [
            str(n.get("text"))
            for n in vuln.get("notes") or []
            if isinstance(n, dict)
            and n.get("category") in ("summary", "description")
            and n.get("text")
        ]
        if summaries or vuln.get("title"):
            stix_vuln["description"] = "\n\n".join(summaries) or str(vuln.get("title"))
        external: list[dict[str, Any]] = []
        if cve:
            external.append({"source_name": "cve", "external_id": cve})
        cwe = vuln.get("cwe")
        if isinstance(cwe, dict) and cwe.get("id"):
            external.append({"source_name": "cwe", "external_id": str(cwe["id"])})
        if external:
            stix_vuln["external_references"] = external
        scores = _cvss(vuln)
        if scores:
            stix_vuln["x_cvss"] = scores
        objects.append(stix_vuln)
        refs.append(vuln_id)
        status = as_dict(vuln.get("product_status"))
        for category, relationship_type in STATUS_RELATIONSHIPS.items():
            for product_id in status.get(category) or []:
                software = products.get(str(product_id))
                if software is None:
                    continue
                used_products[software["id"]] = software
                rel_id = sdo_id(
                    "relationship", namespace, tracking_id, vuln_id, str(product_id), category
                )
                objects.append(
                    {
                        "type": "relationship",
                        "id": rel_id,
                        **common,
                        "relationship_type": relationship_type,
                        "source_ref": vuln_id,
                        "target_ref": software["id"],
                        "x_csaf_status": category,
                        "x_csaf_product_id": str(product_id),
                    }
                )
                refs.append(rel_id)
    for software in used_products.values():
        objects.append({**software, **markings})
        refs.append(software["id"])
    summary = [
        str(n.get("text"))
        for n in meta.get("notes") or []
        if isinstance(n, dict) and n.get("category") == "summary" and n.get("text")
    ]
    report_refs: list[dict[str, Any]] = [
        {
            "source_name": "csaf",
            "external_id": tracking_id,
            **({"url": source_url} if source_url else {}),
        }
    ]
    for reference in meta.get("references") or []:
        if isinstance(reference, dict) and reference.get("url"):
            report_refs.append(
                {
                    "source_name": str(reference.get("category") or "external"),
                    "url": str(reference["url"]),
                    **(
                        {"description": str(reference["summary"])[:500]}
                        if reference.get("summary")
                        else {}
                    ),
                }
            )
    report: dict[str, Any] = {
        "type": "report",
        "id": sdo_id("report", namespace, tracking_id),
        **common,
        "name": str(meta.get("title") or tracking_id),
        "published": modified,
        "report_types": ["vulnerability"],
        "object_refs": refs,
        "external_references": report_refs,
        "x_csaf_tracking_id": tracking_id,
        "x_csaf_version": str(tracking.get("version") or ""),
        "x_csaf_category": str(meta.get("category") or ""),
    }
    if summary:
        report["description"] = "\n\n".join(summary)
    objects.append(report)
    result.objects.extend(objects)
    return result
