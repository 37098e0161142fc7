"""Hostile text from feeds and CSV imports is escaped on every page that shows it: no
injected element, event-handler attribute or ``javascript:`` URL survives into the HTML."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

from flask import Flask

from nca_share.constituency.importer import OrganisationImporter
from nca_share.constituency.models import Membership, Organisation
from nca_share.feeds.models import Feed, FeedRun, FeedSuppression
from tests.fixtures.web import ingest, relationship, sdo
from tests.security.conftest import World

#: Classic and less classic payloads: tags, handlers, URLs, SVG, attribute breaks, templates.
XSS = [
    "<script>alert('x1')</script>",
    '"><img src=x onerror=alert("x2")>',
    "<svg/onload=alert('x3')>",
    "javascript:alert('x4')",
    "'><a href=\"javascript:alert('x5')\">c</a>",
    "<iframe srcdoc='<script>alert(6)</script>'></iframe>",
    "{{7*7}}<style>@import 'x7'</style>",
    "</textarea></title><body onload=alert('x8')>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('x9')>",
    "\u003cscript\u003ealert('x10')\u003c/script\u003e",
]
PAYLOAD = " ".join(XSS)
_URL_ATTRS = ("href", "src", "action", "formaction", "xlink:href")


class _Checker(HTMLParser):
    """Collects every element that could run script."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.bad: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.bad.append(f"<{tag} {name}=…>")
            scheme = (value or "").strip().lower().replace("\t", "")
            if name in _URL_ATTRS and scheme.startswith(("javascript:", "data:t", "vbscript:")):
                self.bad.append(f"<{tag} {name}={value!r}>")
            if name == "srcdoc":
                self.bad.append(f"<{tag} srcdoc>")
        src = dict(attrs).get("src") or ""
        if tag == "script" and not src.startswith("/static/"):
            self.bad.append("<script> not from /static/")
        if tag in ("iframe", "object", "embed", "base", "mglyph", "math"):
            self.bad.append(f"<{tag}>")
        if tag == "style":
            self.bad.append("<style> element")


def assert_escaped(html: str, where: str) -> None:
    """No injected executable markup in ``html``; the payload text is there, escaped."""
    checker = _Checker()
    checker.feed(html)
    assert not checker.bad, f"{where}: {checker.bad}"


def _hostile_object() -> dict[str, Any]:
    return sdo(
        "malware",
        f"Malware {XSS[1]}",
        "GREEN",
        description=PAYLOAD,
        labels=XSS[:4],
        external_references=[
            {"source_name": XSS[2], "url": "javascript:alert('ext')", "description": XSS[0]},
            {"source_name": "vendor", "url": "data:text/html,<script>alert(1)</script>"},
        ],
        x_nca_note=PAYLOAD,
        x_nested={"deep": [XSS[4], {"k": XSS[7]}]},
        aliases=XSS[5:],
    )


def test_stix_text_is_escaped_in_the_explorer(app: Flask, world: World) -> None:
    """Names, descriptions, labels, external references (with ``javascript:``/``data:``
    URLs), aliases and custom ``x_`` fields are inert on the explorer list and detail pages,
    and on the page of an object related to the hostile one."""
    hostile = _hostile_object()
    neighbour = sdo("intrusion-set", f"Group {XSS[0]}", "GREEN", description=XSS[8])
    ingest(app, [hostile, neighbour, relationship(neighbour, "uses", hostile, "GREEN")])
    for who in ("member_a", "analyst"):
        client = world.client(who)
        pages = {
            "list": client.get("/objects"),
            "search": client.get("/objects", query_string={"q": XSS[0]}),
            "detail": client.get(f"/objects/{hostile['id']}"),
            "neighbour": client.get(f"/objects/{neighbour['id']}"),
        }
        for where, response in pages.items():
            assert response.status_code == 200, where
            html = response.get_data(as_text=True)
            assert_escaped(html, f"{who} {where}")
        detail = pages["detail"].get_data(as_text=True)
        assert "&lt;script&gt;" in detail or "&lt;script>" in detail  # shown, escaped


def test_feed_names_errors_and_suppressions_are_escaped(app: Flask, world: World) -> None:
    """Feed names (table and SVG chart), URLs, last errors and suppressed values/reasons are
    inert on the feed health page."""
    database = app.extensions["nca_share.db"]
    now = app.extensions["nca_share.clock"].now()
    with database.session() as session:
        feed = Feed(
            name=f"feed {XSS[2]}"[:100],
            type="stix-url",
            url="https://feed.example.nl/x?<script>alert(1)</script>",
            config={},
            auth_type="none",
            auth_config={},
            created_at=now,
            updated_at=now,
            last_error=PAYLOAD,
            last_error_at=now,
            consecutive_failures=1,
            retry_after=now + timedelta(hours=1),
        )
        session.add(feed)
        session.flush()
        session.add(
            FeedRun(
                feed_id=feed.id,
                started_at=now - timedelta(days=1),
                finished_at=now - timedelta(days=1),
                status="failed",
                objects_added=5,
                error=PAYLOAD,
                problem_details=[{"location": XSS[0], "message": XSS[1]}],
            )
        )
        session.add(
            FeedSuppression(
                feed_id=feed.id,
                stix_id=f"indicator--{XSS[0]}"[:300],
                object_type=XSS[2],
                value=PAYLOAD,
                list_name=XSS[3][:50],
                reason=XSS[4],
                created_at=now,
            )
        )
    response = world.client("analyst").get("/feeds/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert_escaped(html, "feed health")
    assert "feed &lt;svg/onload" in html  # the name is shown, escaped


def test_csv_imported_organisation_names_are_escaped(app: Flask, world: World) -> None:
    """An organisation name from a CSV import is inert on its profile, the organisation list,
    the partnership page its coordinator sees, and the JSON API stays JSON."""
    database = app.extensions["nca_share.db"]
    name = f"Evil BV {XSS[1]}"
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["kvk", "naam", "plaats"], ["30000001", name, "Delft"]])
    csv_text = buffer.getvalue()
    with database.session() as session:
        report = OrganisationImporter(session).import_text(csv_text)
        assert report.good_rows == 1, report.as_dict()
        org = session.query(Organisation).filter_by(kvk="30000001").one()
        assert org.name == name
        session.add(Membership(partnership_id=world.partnership, organisation_id=org.id))
        session.flush()
        org_id = org.id
    analyst = world.client("analyst")
    coordinator = world.client("coordinator")
    pages = {
        "profile (analyst)": analyst.get(f"/organisations/{org_id}"),
        "organisations (analyst)": analyst.get("/organisations"),
        "review (analyst)": analyst.get("/review/assets"),
        "partnership (coordinator)": coordinator.get(f"/partnerships/{world.partnership}"),
        "partnerships (coordinator)": coordinator.get("/partnerships"),
    }
    for where, response in pages.items():
        assert response.status_code == 200, where
        assert_escaped(response.get_data(as_text=True), where)
    api = analyst.get(f"/api/v1/organisations/{org_id}")
    assert api.mimetype == "application/json"
    assert api.get_json()["name"] == name
