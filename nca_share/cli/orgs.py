"""``nca-share orgs`` and ``nca-share partnerships``: the constituency on the command line.

A thin adapter over ``nca_share.constituency``: parse options, call a service, print the
result (``--json`` for machines). Domain errors become a one-line message and exit code 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click
from sqlalchemy.orm import Session

from nca_share.cli.context import CliContext, pass_cli
from nca_share.constituency.assets import AssetService
from nca_share.constituency.importer import OrganisationImporter
from nca_share.constituency.models import PROVINCES, Asset, Organisation, Partnership
from nca_share.constituency.organisations import OrganisationService
from nca_share.constituency.partnerships import PartnershipService
from nca_share.errors import NcaShareError

CLI_ACTOR = "cli"


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@contextmanager
def _session(cli: CliContext) -> Iterator[Session]:
    try:
        with cli.database.session() as session:
            yield session
    except NcaShareError as exc:
        _fail(str(exc) if getattr(exc, "location", None) else exc.message)


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def org_dict(org: Organisation) -> dict[str, Any]:
    return {
        "id": org.id,
        "kvk": org.kvk,
        "name": org.name,
        "sbi_codes": org.sbi_codes,
        "sbi_version": org.sbi_version,
        "employees": org.employees,
        "turnover_eur": org.turnover_eur,
        "balance_eur": org.balance_eur,
        "province": org.province,
        "municipality": org.municipality,
        "nis2_entity_types": org.nis2_entity_types,
        "size_class": org.size_class,
        "classification": org.classification,
        "classification_rule": org.classification_rule,
        "designation": org.designation,
        "maturity_level": org.maturity_level,
    }


def asset_dict(asset: Asset) -> dict[str, Any]:
    return {
        "id": asset.id,
        "organisation_id": asset.organisation_id,
        "kind": asset.kind,
        "value": asset.value,
        "status": asset.status,
        "verification_method": asset.verification_method,
        "verified_at": asset.verified_at.isoformat() if asset.verified_at else None,
    }


# --------------------------------------------------------------------------------- orgs


@click.group("orgs")
def orgs_group() -> None:
    """Organisations of the constituency."""


@orgs_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
@pass_cli
def import_cmd(cli: CliContext, file: Path, as_json: bool) -> None:
    """Import organisations from a KVK-style CSV FILE (upsert by KVK number).

    Every bad row is reported with its line number and reason; every good row is kept.
    """
    with _session(cli) as session:
        report = OrganisationImporter(session).import_path(file)
    if as_json:
        _echo_json(report.as_dict())
    else:
        for error in report.errors:
            click.echo(f"{file}:{error}", err=True)
        click.echo(
            f"{report.rows} rows: {report.created} created, {report.updated} updated, "
            f"{report.bad_rows} rejected"
        )
    if report.bad_rows:
        sys.exit(2)


@orgs_group.command("list")
@click.option("--query", "-q", help="Part of the name, or a KVK number.")
@click.option("--province", type=click.Choice(sorted(PROVINCES)))
@click.option("--classification")
@click.option("--limit", default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def list_cmd(
    cli: CliContext,
    query: str | None,
    province: str | None,
    classification: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List organisations."""
    with _session(cli) as session:
        orgs = OrganisationService(session).list_organisations(
            query=query, province=province, classification=classification, limit=limit
        )
        rows = [org_dict(o) for o in orgs]
    if as_json:
        _echo_json(rows)
        return
    for row in rows:
        click.echo(
            f"{row['kvk']}  {row['name'][:40]:40}  {row['classification'] or '-':17} "
            f"{row['maturity_level']}  {PROVINCES.get(row['province'] or '', '-')}"
        )


@orgs_group.command("show")
@click.argument("kvk")
@click.option("--json", "as_json", is_flag=True)
@click.option("--lang", type=click.Choice(["nl", "en"]), default="nl", show_default=True)
@pass_cli
def show_cmd(cli: CliContext, kvk: str, as_json: bool, lang: str) -> None:
    """Show one organisation: NIS2 result with reasons, maturity, assets, contacts,
    partnerships."""
    with _session(cli) as session:
        orgs = OrganisationService(session)
        org = orgs.get_by_kvk(kvk)
        partnerships = PartnershipService(session, cli.settings)
        data = org_dict(org)
        data["classification_reasons"] = org.classification_reasons
        data["designation_by"] = org.designation_by
        data["designation_reason"] = org.designation_reason
        data["maturity_assessed_at"] = org.maturity_assessed_at
        data["reassessment_due"] = orgs.needs_reassessment(org)
        data["assets"] = [asset_dict(a) for a in org.assets]
        data["contacts"] = [
            {"name": c.name, "email": c.email, "phone": c.phone, "role": c.role,
             "language": c.language}
            for c in org.contacts
        ]  # fmt: skip
        data["partnerships"] = [
            {"slug": m.partnership.slug, "name": m.partnership.name, "status": m.status}
            for m in partnerships.memberships_of(org.id)
        ]
    if as_json:
        _echo_json(data)
        return
    reasons = data["classification_reasons"].get(lang, [])
    click.echo(f"{data['name']} (KVK {data['kvk']})")
    click.echo(f"  SBI: {', '.join(data['sbi_codes']) or '-'} (SBI {data['sbi_version']})")
    click.echo(f"  size: {data['size_class'] or '-'}; province: {data['province'] or '-'}")
    click.echo(f"  NIS2: {data['classification']} (rule {data['classification_rule']})")
    for reason in reasons:
        click.echo(f"    - {reason}")
    if data["designation"]:
        click.echo(
            f"  designation: {data['designation']} by {data['designation_by']}: "
            f"{data['designation_reason']}"
        )
    due = " (reassessment due)" if data["reassessment_due"] else ""
    click.echo(f"  maturity: {data['maturity_level']}{due}")
    click.echo("  assets:")
    for asset in data["assets"]:
        click.echo(f"    #{asset['id']} {asset['kind']:7} {asset['value']}  [{asset['status']}]")
    click.echo("  contacts:")
    for contact in data["contacts"]:
        click.echo(f"    {contact['role']:16} {contact['name']} <{contact['email']}>")
    click.echo("  partnerships:")
    for item in data["partnerships"]:
        click.echo(f"    {item['slug']} ({item['status']})")


@orgs_group.command("create")
@click.option("--kvk", required=True)
@click.option("--name", required=True)
@click.option("--sbi", help="SBI codes separated by ';'.")
@click.option("--employees")
@click.option("--turnover")
@click.option("--balance")
@click.option("--province")
@click.option("--municipality")
@click.option("--entity-type", "entity_types", multiple=True, help="NIS2 entity type slug.")
@pass_cli
def create_cmd(
    cli: CliContext,
    kvk: str,
    name: str,
    sbi: str | None,
    employees: str | None,
    turnover: str | None,
    balance: str | None,
    province: str | None,
    municipality: str | None,
    entity_types: tuple[str, ...],
) -> None:
    """Register one organisation."""
    data: dict[str, Any] = {"kvk": kvk, "name": name}
    optional = {
        "sbi_codes": sbi,
        "employees": employees,
        "turnover_eur": turnover,
        "balance_eur": balance,
        "province": province,
        "municipality": municipality,
    }
    data.update({k: v for k, v in optional.items() if v})
    if entity_types:
        data["nis2_entity_types"] = list(entity_types)
    with _session(cli) as session:
        org = OrganisationService(session).create(data)
        click.echo(f"organisation {org.kvk} registered: NIS2 {org.classification}")


@orgs_group.command("designate")
@click.argument("kvk")
@click.option(
    "--as", "designation", type=click.Choice(["essential", "important", "none"]), required=True
)
@click.option("--reason", help="Why (required unless clearing).")
@click.option("--by", default=CLI_ACTOR, show_default=True, help="Who decides.")
@pass_cli
def designate_cmd(cli: CliContext, kvk: str, designation: str, reason: str | None, by: str) -> None:
    """Record (or clear with --as none) a national NIS2 designation for organisation KVK."""
    with _session(cli) as session:
        orgs = OrganisationService(session)
        org = orgs.set_designation(
            orgs.get_by_kvk(kvk).id,
            None if designation == "none" else designation,
            by=by,
            reason=reason,
        )
        click.echo(f"{org.name}: NIS2 {org.classification} (rule {org.classification_rule})")


@orgs_group.command("maturity")
@click.argument("kvk")
@click.option("--level", type=click.Choice(["M0", "M1", "M2", "M3", "M4"]), required=True)
@click.option("--reason", required=True)
@click.option("--by", default=CLI_ACTOR, show_default=True)
@pass_cli
def maturity_cmd(cli: CliContext, kvk: str, level: str, reason: str, by: str) -> None:
    """Set the maturity level of organisation KVK as an analyst (with a reason)."""
    with _session(cli) as session:
        orgs = OrganisationService(session)
        org = orgs.get_by_kvk(kvk)
        orgs.set_maturity_level(org.id, level, by=by, reason=reason)
        click.echo(f"{org.name}: maturity {org.maturity_level}")


@orgs_group.group("assets")
def assets_group() -> None:
    """Assets of organisations and their verification."""


@assets_group.command("add")
@click.argument("kvk")
@click.argument("kind", type=click.Choice(["cidr", "asn", "domain", "product"]))
@click.argument("value", required=False, default="")
@click.option("--cpe")
@click.option("--purl")
@click.option("--vendor")
@click.option("--product")
@click.option("--versions", "version_range")
@pass_cli
def assets_add_cmd(
    cli: CliContext,
    kvk: str,
    kind: str,
    value: str,
    cpe: str | None,
    purl: str | None,
    vendor: str | None,
    product: str | None,
    version_range: str | None,
) -> None:
    """Claim an asset for organisation KVK (status pending)."""
    with _session(cli) as session:
        org = OrganisationService(session).get_by_kvk(kvk)
        assets = AssetService(session, cli.settings)
        asset = assets.claim(
            org.id, kind, value, by=CLI_ACTOR, cpe=cpe, purl=purl, vendor=vendor,
            product=product, version_range=version_range,
        )  # fmt: skip
        click.echo(f"asset #{asset.id} {asset.kind} {asset.value} claimed (pending)")
        if asset.kind == "domain":
            click.echo(f"publish this TXT record on {asset.value}: {assets.txt_record(asset)}")
        for other, reason in assets.find_overlapping(asset):
            click.echo(f"warning: overlaps asset #{other.id}: {reason} (flagged for review)")


@assets_group.command("verify")
@click.argument("asset_id", type=int)
@pass_cli
def assets_verify_cmd(cli: CliContext, asset_id: int) -> None:
    """Check the DNS TXT token of domain asset ASSET_ID."""
    with _session(cli) as session:
        result = AssetService(session, cli.settings).verify_dns(asset_id)
    click.echo(("verified: " if result.verified else "not verified: ") + result.detail)
    if not result.verified:
        sys.exit(1)


def _decide(action: Callable[[AssetService], Asset], cli: CliContext) -> None:
    with _session(cli) as session:
        asset = action(AssetService(session, cli.settings))
        click.echo(f"asset #{asset.id} {asset.value}: {asset.status}")


@assets_group.command("approve")
@click.argument("asset_id", type=int)
@click.option("--by", default=CLI_ACTOR, show_default=True, help="Who decides.")
@click.option("--reason")
@pass_cli
def assets_approve_cmd(cli: CliContext, asset_id: int, by: str, reason: str | None) -> None:
    """Approve a claim as an analyst."""
    _decide(lambda s: s.approve(asset_id, by=by, reason=reason), cli)


@assets_group.command("reject")
@click.argument("asset_id", type=int)
@click.option("--by", default=CLI_ACTOR, show_default=True)
@click.option("--reason", required=True)
@pass_cli
def assets_reject_cmd(cli: CliContext, asset_id: int, by: str, reason: str) -> None:
    """Reject a claim as an analyst (with a reason)."""
    _decide(lambda s: s.reject(asset_id, by=by, reason=reason), cli)


@assets_group.command("overlaps")
@pass_cli
def assets_overlaps_cmd(cli: CliContext) -> None:
    """The review queue of overlapping claims."""
    with _session(cli) as session:
        for overlap, a, b in AssetService(session, cli.settings).review_queue():
            click.echo(
                f"#{overlap.id}: {overlap.reason} (orgs {a.organisation_id} and "
                f"{b.organisation_id}; assets #{a.id}, #{b.id})"
            )


# --------------------------------------------------------------------------- partnerships


@click.group("partnerships")
def partnerships_group() -> None:
    """Partnerships (samenwerkingsverbanden) and their members."""


def partnership_dict(p: Partnership) -> dict[str, Any]:
    return {
        "id": p.id,
        "slug": p.slug,
        "name": p.name,
        "kind": p.kind,
        "sectors": p.sectors,
        "regions": p.regions,
        "forwarding_policy": p.forwarding_policy,
        "member_list_visible": p.member_list_visible,
    }


@partnerships_group.command("create")
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice(["sector", "regional", "chain"]), required=True)
@click.option("--slug")
@click.option("--sector", "sectors", multiple=True, help="NIS2 key or sector served.")
@click.option("--region", "regions", multiple=True, help="Province served.")
@click.option(
    "--policy",
    type=click.Choice(["automatic", "coordinator_approval"]),
    default="coordinator_approval",
    show_default=True,
)
@click.option("--visible-members", is_flag=True, help="Members may see each other.")
@click.option("--coordinator", "coordinators", multiple=True, help="E-mail of a user.")
@pass_cli
def p_create_cmd(
    cli: CliContext,
    name: str,
    kind: str,
    slug: str | None,
    sectors: tuple[str, ...],
    regions: tuple[str, ...],
    policy: str,
    visible_members: bool,
    coordinators: tuple[str, ...],
) -> None:
    """Create a partnership, optionally naming coordinators (existing users)."""
    from nca_share.auth.service import AuthService

    with _session(cli) as session:
        p = PartnershipService(session, cli.settings).create(
            name=name, kind=kind, slug=slug, sectors=sectors, regions=regions,
            forwarding_policy=policy, member_list_visible=visible_members,
        )  # fmt: skip
        auth = AuthService(session, cli.settings)
        for email in coordinators:
            auth.grant_role(
                auth.get_user_by_email(email), "coordinator", partnership_id=p.id, actor=None
            )
        click.echo(f"partnership {p.slug} created (id {p.id})")


@partnerships_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def p_list_cmd(cli: CliContext, as_json: bool) -> None:
    """List partnerships."""
    with _session(cli) as session:
        service = PartnershipService(session, cli.settings)
        rows = []
        for p in service.list_partnerships():
            row = partnership_dict(p)
            row["members"] = len(service.members(p.id))
            rows.append(row)
    if as_json:
        _echo_json(rows)
        return
    for row in rows:
        click.echo(f"{row['slug']:30} {row['kind']:9} {row['members']:4} members  {row['name']}")


@partnerships_group.command("show")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def p_show_cmd(cli: CliContext, slug: str, as_json: bool) -> None:
    """Show a partnership with coordinators, members and pending invitations."""
    with _session(cli) as session:
        service = PartnershipService(session, cli.settings)
        p = service.get_by_slug(slug)
        data = partnership_dict(p)
        data["coordinators"] = [u.email for u in service.coordinators(p.id)]
        data["members"] = [
            {"kvk": m.organisation.kvk, "name": m.organisation.name, "status": m.status}
            for m in service.members(p.id, statuses=None)
        ]
        data["pending_invitations"] = [
            {"id": i.id, "email": i.email, "expires_at": i.expires_at.isoformat()}
            for i in service.pending_invitations(p.id)
        ]
        data["join_requests"] = [
            {"id": r.id, "kvk": r.organisation.kvk, "name": r.organisation.name}
            for r in service.join_requests(p.id)
        ]
    if as_json:
        _echo_json(data)
        return
    click.echo(f"{data['name']} ({data['slug']}, {data['kind']}, {data['forwarding_policy']})")
    click.echo(f"  coordinators: {', '.join(data['coordinators']) or '-'}")
    click.echo(f"  member list visible to members: {data['member_list_visible']}")
    for m in data["members"]:
        click.echo(f"  {m['kvk']} {m['name']} ({m['status']})")
    for i in data["pending_invitations"]:
        click.echo(f"  invited: {i['email']} (until {i['expires_at']})")
    for r in data["join_requests"]:
        click.echo(f"  request #{r['id']}: {r['kvk']} {r['name']}")


@partnerships_group.command("invite")
@click.argument("slug")
@click.argument("email")
@click.option("--lang", type=click.Choice(["nl", "en"]), default="nl", show_default=True)
@click.option("--kvk", help="The organisation invited, when known.")
@pass_cli
def p_invite_cmd(cli: CliContext, slug: str, email: str, lang: str, kvk: str | None) -> None:
    """Invite EMAIL to partnership SLUG (sends the invitation mail)."""
    from nca_share.notify.email import Mailer

    with _session(cli) as session:
        service = PartnershipService(session, cli.settings, mailer=Mailer(cli.settings))
        p = service.get_by_slug(slug)
        org_id = OrganisationService(session).get_by_kvk(kvk).id if kvk else None
        invitation, _token = service.invite(
            p.id, email, by=CLI_ACTOR, language=lang, organisation_id=org_id
        )
        click.echo(f"invitation sent to {invitation.email} (valid until {invitation.expires_at})")


@partnerships_group.command("add-member")
@click.argument("slug")
@click.argument("kvk")
@pass_cli
def p_add_member_cmd(cli: CliContext, slug: str, kvk: str) -> None:
    """Make organisation KVK an active member of SLUG directly."""
    with _session(cli) as session:
        service = PartnershipService(session, cli.settings)
        org = OrganisationService(session).get_by_kvk(kvk)
        service.add_member(service.get_by_slug(slug).id, org.id, by=CLI_ACTOR)
        click.echo(f"{org.name} is a member of {slug}")


@partnerships_group.command("members")
@click.argument("slug")
@click.option("--all", "show_all", is_flag=True, help="Also invited, left and removed.")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def p_members_cmd(cli: CliContext, slug: str, show_all: bool, as_json: bool) -> None:
    """List the members of partnership SLUG."""
    with _session(cli) as session:
        service = PartnershipService(session, cli.settings)
        p = service.get_by_slug(slug)
        rows: list[dict[str, Any]] = [
            {"kvk": m.organisation.kvk, "name": m.organisation.name, "status": m.status,
             "joined_at": m.joined_at, "ended_at": m.ended_at}
            for m in service.members(p.id, statuses=None if show_all else ("active",))
        ]  # fmt: skip
    if as_json:
        _echo_json(rows)
        return
    for row in rows:
        click.echo(f"{row['kvk']}  {row['name'][:50]:50} {row['status']}")


@partnerships_group.command("remove")
@click.argument("slug")
@click.argument("kvk")
@pass_cli
def p_remove_cmd(cli: CliContext, slug: str, kvk: str) -> None:
    """Remove organisation KVK from partnership SLUG."""
    with _session(cli) as session:
        service = PartnershipService(session, cli.settings)
        org = OrganisationService(session).get_by_kvk(kvk)
        service.remove(service.get_by_slug(slug).id, org.id, by=CLI_ACTOR)
        click.echo(f"{org.name} removed from {slug}")


@partnerships_group.command("requests")
@click.argument("slug")
@pass_cli
def p_requests_cmd(cli: CliContext, slug: str) -> None:
    """List the pending join requests of partnership SLUG."""
    with _session(cli) as session:
        service = PartnershipService(session, cli.settings)
        for r in service.join_requests(service.get_by_slug(slug).id):
            note = f": {r.message}" if r.message else ""
            click.echo(f"#{r.id} {r.organisation.kvk} {r.organisation.name}{note}")


@partnerships_group.command("decide")
@click.argument("slug")
@click.argument("request_id", type=int)
@click.option("--approve/--reject", required=True)
@click.option("--by", default=CLI_ACTOR, show_default=True)
@pass_cli
def p_decide_cmd(cli: CliContext, slug: str, request_id: int, approve: bool, by: str) -> None:
    """Approve or reject join request REQUEST_ID of partnership SLUG."""
    with _session(cli) as session:
        service = PartnershipService(session, cli.settings)
        request = service.decide_join(
            service.get_by_slug(slug).id, request_id, approve=approve, by=by
        )
        click.echo(f"request #{request.id}: {request.status}")


commands = [orgs_group, partnerships_group]
