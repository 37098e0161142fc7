# mypy: disable-error-code="untyped-decorator"
"""``/api/v1/feeds``: the feed registry and feed health (scope ``feeds:read``), adding a feed
and queueing a collect run (``feeds:write``). Secrets are accepted on create but only ever
shown back as "set" / "not set"."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from nca_share.api import errors
from nca_share.api.auth import requires
from nca_share.feeds.service import FeedInput, FeedService
from nca_share.jobs.service import JobService
from nca_share.web.context import db_session, get_clock, get_settings

blp = Blueprint("feeds_api", __name__, url_prefix="/api/v1/feeds", description="Feeds")


class HealthSchema(ma.Schema):
    last_run_at = ma.fields.String(allow_none=True)
    last_success_at = ma.fields.String(allow_none=True)
    last_error = ma.fields.String(allow_none=True)
    last_error_at = ma.fields.String(allow_none=True)
    consecutive_failures = ma.fields.Integer()
    retry_after = ma.fields.String(allow_none=True)
    last_added = ma.fields.Integer(allow_none=True)
    lag_s = ma.fields.Integer(allow_none=True)


class ProblemSchema(ma.Schema):
    location = ma.fields.String()
    message = ma.fields.String()


class RunSchema(ma.Schema):
    id = ma.fields.Integer()
    started_at = ma.fields.String()
    finished_at = ma.fields.String(allow_none=True)
    status = ma.fields.String()
    read = ma.fields.Integer()
    added = ma.fields.Integer()
    unchanged = ma.fields.Integer()
    quarantined = ma.fields.Integer()
    suppressed = ma.fields.Integer()
    problems = ma.fields.Integer()
    problem_details = ma.fields.List(ma.fields.Nested(ProblemSchema))
    error = ma.fields.String(allow_none=True)
    lag_s = ma.fields.Integer(allow_none=True)


class FeedSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    type = ma.fields.String()
    url = ma.fields.String(allow_none=True)
    config = ma.fields.Dict()
    auth_type = ma.fields.String()
    auth_config = ma.fields.Dict()
    secrets = ma.fields.String(metadata={"description": "'set' or 'not set'; never the value"})
    interval_s = ma.fields.Integer()
    default_tlp = ma.fields.String()
    reliability = ma.fields.String()
    confidence = ma.fields.Integer(allow_none=True)
    lifetime_days = ma.fields.Integer(allow_none=True)
    enabled = ma.fields.Boolean()
    health = ma.fields.Nested(HealthSchema)
    runs = ma.fields.List(ma.fields.Nested(RunSchema))


class FeedList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(FeedSchema))


class FeedCreate(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    type = ma.fields.String(required=True)
    url = ma.fields.String(load_default=None, allow_none=True)
    config = ma.fields.Dict(load_default=dict)
    auth_type = ma.fields.String(load_default="none")
    auth_config = ma.fields.Dict(load_default=dict)
    secrets = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.String(), load_default=None, allow_none=True
    )
    interval_s = ma.fields.Integer(load_default=3600)
    default_tlp = ma.fields.String(load_default="AMBER")
    reliability = ma.fields.String(load_default="F")
    confidence = ma.fields.Integer(load_default=None, allow_none=True)
    lifetime_days = ma.fields.Integer(load_default=None, allow_none=True)
    enabled = ma.fields.Boolean(load_default=True)


class Queued(ma.Schema):
    job_id = ma.fields.Integer(allow_none=True)


def _service() -> FeedService:
    return FeedService(db_session(), get_settings(), get_clock())


def _runs(service: FeedService, feed: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "started_at": r.started_at.isoformat(),
            "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            "status": r.status,
            "read": r.objects_read,
            "added": r.objects_added,
            "unchanged": r.unchanged,
            "quarantined": r.quarantined,
            "suppressed": r.suppressed,
            "problems": r.problems,
            "problem_details": r.problem_details or [],
            "error": r.error,
            "lag_s": r.lag_s,
        }
        for r in service.runs(feed, 20)
    ]


@blp.route("")
class Feeds(MethodView):
    @requires("feeds:read")
    @blp.response(200, FeedList)
    @errors(blp, 401, 403)
    def get(self) -> dict[str, Any]:
        """Every feed with its health."""
        service = _service()
        return {"items": [service.describe(f) for f in service.all()]}

    @requires("feeds:write")
    @blp.arguments(FeedCreate)
    @blp.response(201, FeedSchema)
    @errors(blp, 400, 401, 403, 409, 422)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Register a feed (secrets are stored encrypted and never returned)."""
        service = _service()
        feed = service.add(FeedInput(**data))
        db_session().commit()
        return service.describe(feed)


@blp.route("/<name>")
class FeedItem(MethodView):
    @requires("feeds:read")
    @blp.response(200, FeedSchema)
    @errors(blp, 401, 403, 404)
    def get(self, name: str) -> dict[str, Any]:
        """One feed with its last 20 runs."""
        service = _service()
        feed = service.get(name)
        return {**service.describe(feed), "runs": _runs(service, feed)}


@blp.route("/<name>/run")
class FeedRunNow(MethodView):
    @requires("feeds:write")
    @blp.response(202, Queued)
    @errors(blp, 401, 403, 404)
    def post(self, name: str) -> dict[str, Any]:
        """Queue a collect run of this feed now."""
        feed = _service().get(name)
        job_id = JobService(db_session(), get_clock()).enqueue("collect_feed", {"feed_id": feed.id})
        db_session().commit()
        return {"job_id": job_id}


class SuppressionSchema(ma.Schema):
    id = ma.fields.Integer()
    created_at = ma.fields.String()
    stix_id = ma.fields.String()
    object_type = ma.fields.String()
    value = ma.fields.String()
    list_name = ma.fields.String()
    reason = ma.fields.String()


class SuppressionList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SuppressionSchema))


@blp.route("/<name>/suppressions")
class FeedSuppressions(MethodView):
    @requires("feeds:read")
    @blp.response(200, SuppressionList)
    @errors(blp, 401, 403, 404)
    def get(self, name: str) -> dict[str, Any]:
        """The latest 500 values this feed's warning lists kept out, and why."""
        service = _service()
        feed = service.get(name)
        return {
            "items": [
                {
                    "id": s.id,
                    "created_at": s.created_at.isoformat(),
                    "stix_id": s.stix_id,
                    "object_type": s.object_type,
                    "value": s.value,
                    "list_name": s.list_name,
                    "reason": s.reason,
                }
                for s in service.suppressions(feed, 500)
            ]
        }
