"""The product pick-list is built from CPEs, PURLs and software objects in the STIX store."""

from __future__ import annotations

from nca_share.access import Principal
from nca_share.constituency.products import ProductCatalogue
from nca_share.db import Database
from nca_share.stix.ingest import IngestService

OBJECTS = [
    {
        "type": "software", "spec_version": "2.1",
        "id": "software--a1b2c3d4-0000-4000-8000-000000000001",
        "name": "FortiOS", "vendor": "Fortinet", "version": "7.2.0",
        "cpe": "cpe:2.3:o:fortinet:fortios:7.2.0:*:*:*:*:*:*:*",
    },
    {
        "type": "software", "spec_version": "2.1",
        "id": "software--a1b2c3d4-0000-4000-8000-000000000002",
        "name": "NetScaler ADC", "vendor": "Citrix",
    },
    {
        "type": "software", "spec_version": "2.1",
        "id": "software--a1b2c3d4-0000-4000-8000-000000000003",
        "name": "requests", "swid": "x", "languages": ["en"],
    },
]  # fmt: skip


def test_search_products_from_ingested_data(database: Database) -> None:
    """CPE-bearing software yields vendor/product from the CPE; vendor-less software is left out."""
    IngestService(database).ingest_objects(OBJECTS, source="test")
    with database.session() as session:
        analyst = Principal(user_id=1, roles=frozenset({"analyst"}))
        catalogue = ProductCatalogue(session, analyst)
        forti = catalogue.search("forti")
        assert [o.cpe for o in forti] == ["cpe:2.3:o:fortinet:fortios:7.2.0:*:*:*:*:*:*:*"]
        assert (forti[0].vendor, forti[0].product) == ("fortinet", "fortios")
        citrix = catalogue.search("netscaler")
        assert [(o.vendor, o.product) for o in citrix] == [("citrix", "netscaler adc")]
        assert catalogue.search("requests") == []
        assert catalogue.search("x") == []
        assert catalogue.search("100%") == []
