"""Marshmallow schemas of the REST API (they also generate the OpenAPI document)."""

from __future__ import annotations

import marshmallow as ma

from nca_share.access import TLP_NAMES


class PageArgs(ma.Schema):
    """Keyset pagination: pass ``next_cursor`` of a page as ``cursor`` for the next."""

    cursor = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(max=500),
        metadata={"description": "Opaque cursor from the previous page's next_cursor"},
    )
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=1000))


class ObjectListArgs(PageArgs):
    type = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(min=1, max=250),
        metadata={"description": "STIX type, e.g. indicator"},
    )
    added_after = ma.fields.AwareDateTime(
        load_default=None, metadata={"description": "Only objects added after (RFC 3339)"}
    )
    text = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "Case-insensitive substring of the name"},
    )


class ObjectSummary(ma.Schema):
    id = ma.fields.String(required=True)
    type = ma.fields.String(required=True)
    spec_version = ma.fields.String(required=True)
    name = ma.fields.String(allow_none=True, required=True)
    created = ma.fields.AwareDateTime(allow_none=True, required=True)
    modified = ma.fields.AwareDateTime(allow_none=True, required=True)
    date_added = ma.fields.AwareDateTime(required=True)
    revoked = ma.fields.Boolean(required=True)
    tlp = ma.fields.String(required=True, validate=ma.validate.OneOf(TLP_NAMES))
    source = ma.fields.String(required=True)


class ObjectDetail(ObjectSummary):
    current = ma.fields.Boolean(required=True)
    marking_refs = ma.fields.List(ma.fields.String(), required=True)
    object = ma.fields.Dict(required=True, metadata={"description": "The stored STIX JSON"})


class ObjectPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ObjectSummary), required=True)
    next_cursor = ma.fields.String(allow_none=True, required=True)


class VersionList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ObjectDetail), required=True)


class RelationshipItem(ma.Schema):
    source_id = ma.fields.String(required=True)
    target_id = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    relationship_type = ma.fields.String(allow_none=True, required=True)
    via_id = ma.fields.String(required=True)
    direction = ma.fields.String(required=True, validate=ma.validate.OneOf(["in", "out"]))
    other_in_store = ma.fields.Boolean(
        required=True,
        metadata={"description": "False when the other end is not in the store or not visible"},
    )


class RelationshipList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(RelationshipItem), required=True)


class RoleItem(ma.Schema):
    role = ma.fields.String(required=True)
    organisation_id = ma.fields.Integer(allow_none=True, required=True)
    partnership_id = ma.fields.Integer(allow_none=True, required=True)


class Me(ma.Schema):
    id = ma.fields.Integer(required=True)
    email = ma.fields.String(required=True)
    locale = ma.fields.String(required=True)
    roles = ma.fields.List(ma.fields.Nested(RoleItem), required=True)
    scopes = ma.fields.List(ma.fields.String(), required=True)
    token_id = ma.fields.Integer(allow_none=True, required=True)
    totp_enabled = ma.fields.Boolean(required=True)


class AuditArgs(ma.Schema):
    action = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=100))
    actor = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=320))
    since = ma.fields.AwareDateTime(load_default=None)
    until = ma.fields.AwareDateTime(load_default=None)
    cursor = ma.fields.String(
        load_default=None,
        validate=ma.validate.Regexp(r"^[0-9]{1,9}$"),
        metadata={"description": "next_cursor of the previous page"},
    )
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=1000))


class AuditItem(ma.Schema):
    id = ma.fields.Integer(required=True)
    at = ma.fields.AwareDateTime(required=True)
    actor_email = ma.fields.String(allow_none=True, required=True)
    action = ma.fields.String(required=True)
    target = ma.fields.String(allow_none=True, required=True)
    details = ma.fields.Dict(required=True)
    ip = ma.fields.String(allow_none=True, required=True)


class AuditPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AuditItem), required=True)
    next_cursor = ma.fields.String(allow_none=True, required=True)


class OrganisationOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    kvk = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
