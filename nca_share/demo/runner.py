"""Seeds the demo (idempotently) and runs the embedded platform.

``seed_demo`` loads, in order: demo accounts (staff with TOTP pre-enrolled, an SME member),
the demo constituency, the demo STIX bundles, the demo feeds (collected once), and matching.
Credentials are generated on the first run and kept in ``<data_dir>/demo-accounts.json`` so
every later run prints the same ones. ``run_embedded`` serves the web UI and API with
waitress while the scheduler and worker threads run in the same process.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp

from nca_share.config import Settings
from nca_share.db import Database

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
ACCOUNTS_FILE = "demo-accounts.json"

#: (e-mail, roles, organisation KVK for members)
DEMO_STAFF: tuple[tuple[str, tuple[str, ...], str | None], ...] = (
    ("operator@nca-demo.nl", ("operator",), None),
    ("analyst@nca-demo.nl", ("analyst",), None),
    ("reviewer@nca-demo.nl", ("reviewer",), None),
)


@dataclass
class DemoSummary:
    """What the seed did and the accounts a newcomer can use."""

    accounts: list[dict[str, Any]] = field(default_factory=list)
    steps: dict[str, Any] = field(default_factory=dict)


def ensure_local_secret(settings: Settings) -> Settings:
    """Give an embedded installation a stable secret key kept in its data directory.

    Production sets ``NCA_SHARE_SECRET_KEY``; the embedded default must still keep sessions
    and encrypted secrets valid across restarts, so a random key is generated once and
    stored with mode 0600 next to the database.
    """
    if settings.secret_key:
        return settings
    path = settings.data_dir / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return settings.model_copy(update={"secret_key": path.read_text().strip()})


def _load_accounts(settings: Settings) -> dict[str, dict[str, Any]]:
    path = settings.data_dir / ACCOUNTS_FILE
    if path.exists():
        loaded: dict[str, dict[str, Any]] = json.loads(path.read_text())
        return loaded
    return {}


def _save_accounts(settings: Settings, accounts: dict[str, dict[str, Any]]) -> None:
    path = settings.data_dir / ACCOUNTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(accounts, fh, indent=2, sort_keys=True)


def _seed_accounts(settings: Settings, database: Database) -> dict[str, dict[str, Any]]:
    """Staff accounts with TOTP enrolled, coordinators' TOTP, and an SME member account."""
    from nca_share.auth.service import AuthService
    from nca_share.constituency.demo import DEMO_ORGS, DEMO_PASSWORD

    accounts = _load_accounts(settings)
    member_kvk = DEMO_ORGS[0].kvk
    wanted: list[tuple[str, tuple[str, ...], str | None]] = [
        *DEMO_STAFF,
        ("member@" + DEMO_ORGS[0].contact[1].split("@", 1)[1], ("member",), member_kvk),
    ]
    with database.session() as session:
        from nca_share.constituency.organisations import OrganisationService

        auth = AuthService(session, settings)
        orgs = OrganisationService(session)
        for email, roles, kvk in wanted:
            user = auth.find_user(email)
            if user is None:
                user = auth.create_user(email, DEMO_PASSWORD, verified=True)
            for role in roles:
                org_id = orgs.get_by_kvk(kvk).id if kvk else None
                auth.grant_role(user, role, organisation_id=org_id)
            accounts.setdefault(email, {"password": DEMO_PASSWORD, "roles": list(roles)})
        session.flush()
        # Everyone who must use a second factor (staff, coordinators) gets one enrolled now,
        # so a newcomer can log in at once: the secret goes into an authenticator app, or a
        # printed recovery code is used.
        for user in auth.list_users():
            email = user.email
            entry = accounts.setdefault(
                email, {"password": DEMO_PASSWORD, "roles": sorted(r.role for r in user.roles)}
            )
            entry["roles"] = sorted({str(r.role) for r in user.roles})
            if auth.requires_totp(user) and not user.totp_enabled:
                secret, _uri = auth.begin_totp(user)
                codes = auth.confirm_totp(user, pyotp.TOTP(secret).now())
                entry["totp_secret"] = secret
                entry["recovery_codes"] = codes[:3]
    _save_accounts(settings, accounts)
    return accounts


def _ingest_demo_bundles(settings: Settings, database: Database) -> dict[str, Any]:
    from nca_share.stix.ingest import IngestService
    from nca_share.stix.tlp import TLP

    service = IngestService(database)
    totals = {"files": 0, "new_versions": 0, "quarantined": 0}
    for path in sorted((DATA_DIR / "stix").glob("*.json")):
        report = service.ingest_path(path, source=f"demo:{path.stem}", default_tlp=TLP.GREEN)
        totals["files"] += 1
        totals["new_versions"] += report.new_versions
        totals["quarantined"] += report.quarantined
    return totals


def _seed_feeds(settings: Settings, database: Database) -> tuple[dict[str, str], int]:
    """Register and collect the demo feeds; returns the per-feed summary and objects added."""
    from nca_share.feeds.demo import collect_demo_feeds, register_demo_feeds

    with database.session() as session:
        register_demo_feeds(session, settings, DATA_DIR)
    runs = collect_demo_feeds(database, settings)
    summary = {name: f"{run['status']}, {run['added']} objects added" for name, run in runs.items()}
    return summary, sum(int(run["added"] or 0) for run in runs.values())


def seed_demo(settings: Settings, database: Database) -> DemoSummary:
    """Load every part of the demo; running it again adds nothing twice."""
    from nca_share.constituency.demo import load_demo_constituency

    database.upgrade()
    summary = DemoSummary()
    with database.session() as session:
        summary.steps["constituency"] = load_demo_constituency(session, settings)
    accounts = _seed_accounts(settings, database)
    summary.steps["stix"] = _ingest_demo_bundles(settings, database)
    summary.steps["feeds"], feeds_added = _seed_feeds(settings, database)
    # Match only when this seed brought something new: matching every stored object again at
    # each start would be wasted work and would count the same reports as "seen again".
    if (
        any(summary.steps["constituency"].values())
        or summary.steps["stix"]["new_versions"]
        or feeds_added
    ):
        from nca_share.matching.demo import run_demo_matching

        summary.steps["matching"] = run_demo_matching(settings, database)
    else:
        summary.steps["matching"] = "nothing new to match"
    summary.accounts = [{"email": email, **data} for email, data in sorted(accounts.items())]
    return summary


def format_accounts(summary: DemoSummary) -> str:
    """The console banner listing the demo accounts."""
    lines = ["Demo accounts (password, roles; staff log in with TOTP or a recovery code):"]
    for account in summary.accounts:
        lines.append(
            f"  {account['email']:<36} {account['password']}  [{', '.join(account['roles'])}]"
        )
        if account.get("totp_secret"):
            lines.append(f"      TOTP secret {account['totp_secret']}")
            lines.append(f"      recovery codes {' '.join(account.get('recovery_codes', []))}")
    return "\n".join(lines)


def run_embedded(
    settings: Settings,
    database: Database,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    web_threads: int = 8,
    workers: int | None = None,
    ready: threading.Event | None = None,
) -> None:
    """Serve the web UI and API with the scheduler and workers in this process until
    interrupted."""
    from waitress.server import create_server

    from nca_share.jobs.runtime import EmbeddedRuntime
    from nca_share.web import create_app

    runtime = EmbeddedRuntime(settings, database, threads=workers)
    app = create_app(settings, database=database)
    server = create_server(app, host=host, port=port, threads=web_threads, ident="nca_share")
    runtime.start()
    try:
        if ready is not None:
            ready.set()
        server.run()
    finally:
        runtime.stop(10.0)
        server.close()
