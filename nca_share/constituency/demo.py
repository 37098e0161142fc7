"""Demo constituency for ``make run``: twelve organisations across sectors, sizes, NIS2 classes
and maturity levels, with verified assets that overlap the demo intelligence (CIDRs around
Feodo Tracker C2 addresses from ``shared/data/csv-ioc-lists``, products named in CISA KEV and
CISA CSAF advisories), contacts and preferences, and two partnerships (one sector, one
regional) with members and a coordinator.

Everything goes through the constituency services, so the demo data obeys the same rules as
real data. ``load_demo_constituency`` is idempotent: organisations that exist are skipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from nca_share.config import Settings
from nca_share.constituency.assets import AssetService
from nca_share.constituency.maturity import load_basisscan
from nca_share.constituency.organisations import OrganisationService
from nca_share.constituency.partnerships import PartnershipService

log = logging.getLogger(__name__)

DEMO_ACTOR = "demo"
#: Password of the demo users (the demo only; never used outside ``make run``).
DEMO_PASSWORD = "demo-wachtwoord-2026"  # noqa: S105


@dataclass(frozen=True)
class DemoOrg:
    kvk: str
    name: str
    sbi: str
    employees: int
    turnover: int
    balance: int
    province: str
    municipality: str
    entity_types: tuple[str, ...]
    #: answers pattern for the basisscan: None = not assessed (M0), else a level to aim at
    maturity: str
    assets: tuple[tuple[str, dict[str, str]], ...] = ()
    contact: tuple[str, str, str] = ("", "", "")
    designation: tuple[str, str] | None = None
    cer: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


# CIDRs below contain Feodo Tracker C2 addresses of the demo data (192.9.135.73,
# 85.239.243.155, 37.60.242.85, 178.18.246.136, 23.226.138.143, 104.129.55.106, 103.82.243.5),
# so matching shows hits on verified assets.
DEMO_ORGS: tuple[DemoOrg, ...] = (
    DemoOrg(
        "30000001", "Noorderlicht Netbeheer B.V.", "3513", 1400, 420_000_000, 900_000_000,
        "groningen", "Groningen", ("electricity_dso",), "M4",
        (("cidr", {"value": "192.9.135.0/24"}), ("asn", {"value": "AS64501"}),
         ("domain", {"value": "noorderlicht-netbeheer.nl"}),
         ("product", {"vendor": "Honeywell", "product": "Experion PKS"})),
        ("Sanne de Vries", "soc@noorderlicht-netbeheer.nl", "24x7"),
    ),
    DemoOrg(
        "30000002", "Waterbedrijf Zuidwest N.V.", "3600", 620, 160_000_000, 700_000_000,
        "zeeland", "Middelburg", ("drinking_water_supplier",), "M3",
        (("cidr", {"value": "85.239.243.128/25"}),
         ("product", {"vendor": "Mitsubishi Electric", "product": "MELSEC iQ-R"})),
        ("Joris Bakker", "security@waterzuidwest.nl", "security_officer"),
    ),
    DemoOrg(
        "30000003", "Ziekenhuis Rivierenland", "86101", 2300, 310_000_000, 280_000_000,
        "gelderland", "Tiel", ("healthcare_provider",), "M3",
        (("cidr", {"value": "37.60.242.0/24"}), ("domain", {"value": "zrl-demo.nl"}),
         ("product", {"cpe": "cpe:2.3:a:microsoft:exchange_server:2019:*:*:*:*:*:*:*"})),
        ("Fatima El Amrani", "ciso@zrl-demo.nl", "security_officer"),
    ),
    DemoOrg(
        "30000004", "Huisartsenpraktijk De Linde", "86211", 9, 900_000, 400_000,
        "utrecht", "Zeist", ("healthcare_provider",), "M1",
        (("domain", {"value": "praktijkdelinde-demo.nl"}),),
        ("Dr. P. Jansen", "info@praktijkdelinde-demo.nl", "primary"),
    ),
    DemoOrg(
        "30000005", "Polder Cloud Services B.V.", "6311", 140, 38_000_000, 30_000_000,
        "noord-holland", "Amsterdam", ("cloud_provider", "data_centre_provider"), "M4",
        (("cidr", {"value": "178.18.246.0/23"}), ("asn", {"value": "AS64502"}),
         ("product", {"cpe": "cpe:2.3:a:oracle:weblogic_server:14.1.1.0.0:*:*:*:*:*:*:*"})),
        ("NOC Polder Cloud", "noc@poldercloud-demo.nl", "24x7"),
    ),
    DemoOrg(
        "30000006", "Delta DNS Stichting", "6311", 18, 2_500_000, 1_200_000,
        "zuid-holland", "Delft", ("dns_provider",), "M2",
        (("domain", {"value": "deltadns-demo.nl"}),),
        ("Kees Visser", "ops@deltadns-demo.nl", "technical"),
    ),
    DemoOrg(
        "30000007", "Brabantse Precisietechniek B.V.", "2562", 85, 14_000_000, 9_000_000,
        "noord-brabant", "Eindhoven", ("machinery_manufacturer",), "M2",
        (("cidr", {"value": "23.226.138.128/25"}),
         ("product", {"vendor": "Mitsubishi Electric Corporation",
                      "product": "Wire-cut EDM MV Series MV1200R D-CUBES Series Special system "
                                 "BRD-B63W000 to W036"})),
        ("Linda Smits", "it@brabantseprecisie-demo.nl", "primary"),
    ),
    DemoOrg(
        "30000008", "Greenport Kwekerij Westland", "0113", 35, 6_000_000, 4_000_000,
        "zuid-holland", "Westland", (), "M1",
        (("product", {"vendor": "Synacor", "product": "Zimbra Collaboration Suite"}),),
        ("Ahmet Yilmaz", "kantoor@kwekerijwestland-demo.nl", "primary"),
    ),
    DemoOrg(
        "30000009", "Gemeente Dijkstad", "8411", 900, 0, 0,
        "flevoland", "Dijkstad", ("regional_government",), "M3",
        (("cidr", {"value": "104.129.55.0/24"}), ("domain", {"value": "dijkstad-demo.nl"})),
        ("CISO Dijkstad", "ciso@dijkstad-demo.nl", "security_officer"),
    ),
    DemoOrg(
        "30000010", "Voedselverwerking Twente B.V.", "1013", 260, 75_000_000, 50_000_000,
        "overijssel", "Hengelo", ("food_undertaking",), "M0",
        (("cidr", {"value": "103.82.243.0/24"}),
         ("product", {"cpe": "cpe:2.3:o:cisco:ios_xe:17.9.1:*:*:*:*:*:*:*"})),
        ("Bram Mulder", "ict@vvtwente-demo.nl", "technical"),
    ),
    DemoOrg(
        "30000011", "Friese Koeriers B.V.", "5320", 60, 8_000_000, 3_000_000,
        "fryslan", "Leeuwarden", ("postal_courier_provider",), "M2",
        (("domain", {"value": "friesekoeriers-demo.nl"}),),
        ("Tjitske Hoekstra", "it@friesekoeriers-demo.nl", "primary"),
        designation=("essential", "Sole national provider of a critical courier service"),
    ),
    DemoOrg(
        "30000012", "Limburg Registrar Diensten", "6311", 6, 700_000, 300_000,
        "limburg", "Maastricht", ("domain_registration_service",), "M1",
        (("domain", {"value": "limburgregistrar-demo.nl"}),),
        ("Maud Peeters", "support@limburgregistrar-demo.nl", "primary"),
    ),
)  # fmt: skip

#: (slug, name, kind, sectors, regions, members (KVK), coordinator e-mail, visible list)
DEMO_PARTNERSHIPS: tuple[tuple[str, str, str, list[str], list[str], list[str], str, bool], ...] = (
    (
        "zorg-cert-demo",
        "Zorg-CERT (demo)",
        "sector",
        ["I.5"],
        [],
        ["30000003", "30000004"],
        "coordinator@zorgcert-demo.nl",
        False,
    ),
    (
        "cyberweerbaar-noord-demo",
        "Cyberweerbaar Noord-Nederland (demo)",
        "regional",
        [],
        ["groningen", "fryslan", "drenthe"],
        ["30000001", "30000011", "30000006"],
        "coordinator@cwnoord-demo.nl",
        True,
    ),
)


def _answers_for(level: str) -> dict[str, str]:
    """Basisscan answers that score to ``level``: all no (M1), all partly (M2, 50 %),
    yes and partly alternating (M3, 75 %), all yes (M4)."""
    answers: dict[str, str] = {}
    for index, statement in enumerate(load_basisscan().statements):
        if level == "M3":
            answers[statement.id] = "yes" if index % 2 else "partly"
        else:
            answers[statement.id] = {"M1": "no", "M2": "partly", "M4": "yes"}[level]
    return answers


def load_demo_constituency(session: Session, settings: Settings | None = None) -> dict[str, int]:
    """Create the demo organisations, assets, contacts, maturity and partnerships.

    :param settings: used for the coordinator accounts (``AuthService``) and asset checks;
        the default settings when omitted.
    :returns: counts of what was created.
    """
    from nca_share.auth.service import AuthService
    from nca_share.config import load_settings

    settings = settings or load_settings()
    orgs = OrganisationService(session)
    assets = AssetService(session, settings)
    partnerships = PartnershipService(session, settings)
    created = {"organisations": 0, "assets": 0, "partnerships": 0, "coordinators": 0}
    for demo in DEMO_ORGS:
        if orgs.find_by_kvk(demo.kvk) is not None:
            continue
        org = orgs.create(
            {
                "kvk": demo.kvk,
                "name": demo.name,
                "sbi_codes": [demo.sbi],
                "employees": demo.employees,
                "turnover_eur": demo.turnover or None,
                "balance_eur": demo.balance or None,
                "province": demo.province,
                "municipality": demo.municipality,
                "nis2_entity_types": list(demo.entity_types),
                "cer_critical_entity": demo.cer,
            }
        )
        created["organisations"] += 1
        if demo.designation:
            orgs.set_designation(
                org.id, demo.designation[0], by=DEMO_ACTOR, reason=demo.designation[1]
            )
        if demo.maturity != "M0":
            orgs.record_self_assessment(org.id, _answers_for(demo.maturity), by=DEMO_ACTOR)
        name, email, role = demo.contact
        orgs.add_contact(org.id, name=name, email=email, role=role, language="nl")
        orgs.set_preferences(
            org.id,
            channels=["email", "inbox"],
            mode="immediate" if demo.maturity in ("M3", "M4") else "weekly",
            min_urgency="normal",
            language="nl",
        )
        for kind, fields in demo.assets:
            value = fields.get("value", "")
            extra = {k: v for k, v in fields.items() if k != "value"}
            asset = assets.claim(org.id, kind, value, by=DEMO_ACTOR, **extra)
            assets.approve(asset.id, by=DEMO_ACTOR, reason="demo data")
            created["assets"] += 1
    auth = AuthService(session, settings)
    for slug, name, kind, sectors, regions, members, coordinator, visible in DEMO_PARTNERSHIPS:
        partnership = partnerships.find_by_slug(slug)
        if partnership is None:
            partnership = partnerships.create(
                name=name, slug=slug, kind=kind, sectors=sectors, regions=regions,
                forwarding_policy="coordinator_approval" if kind == "sector" else "automatic",
                member_list_visible=visible,
            )  # fmt: skip
            created["partnerships"] += 1
        for kvk in members:
            org = orgs.get_by_kvk(kvk)
            partnerships.add_member(partnership.id, org.id, by=DEMO_ACTOR)
        user = auth.find_user(coordinator)
        if user is None:
            user = auth.create_user(coordinator, DEMO_PASSWORD, verified=True)
            created["coordinators"] += 1
        auth.grant_role(user, "coordinator", partnership_id=partnership.id)
    session.flush()
    log.info("demo constituency loaded: %s", created)
    return created
