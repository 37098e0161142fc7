"""Products named by ``software`` objects, as the CSAF mapping writes them."""

from __future__ import annotations

from nca_share.matching.engine import software_products
from nca_share.matching.index import product_key


def test_csaf_software_matches_the_declared_product_name() -> None:
    """A CSAF software object yields the plain vendor:name key a company declares, and the
    full product name as a second key."""
    raw = {
        "type": "software",
        "name": "Wire-cut EDM MV Series MV1200R",
        "vendor": "Mitsubishi Electric Corporation",
        "x_product_name": "Mitsubishi Electric Corporation Wire-cut EDM MV Series MV1200R: <=B13",
        "x_version_range": "<=B13",
    }
    keys = [p.key for p in software_products(raw)]
    assert keys[0] == product_key(
        "Mitsubishi Electric Corporation", "Wire-cut EDM MV Series MV1200R"
    )
    assert len(keys) == 2
    assert len(set(keys)) == 2


def test_software_without_full_name_gives_one_key() -> None:
    """Without ``x_product_name`` only vendor:name is used, never twice."""
    keys = [p.key for p in software_products({"vendor": "Honeywell", "name": "Experion PKS"})]
    assert keys == [product_key("Honeywell", "Experion PKS")]
