"""The error hierarchy of nca_share. Domain errors carry no HTTP knowledge; each surface
(REST, TAXII, web, CLI) maps them to its own responses once.

::

    NcaShareError
     ├── ConfigError              settings are invalid or missing
     ├── NotFound                 a get_* found nothing (find_* returns None instead)
     ├── Conflict                 the change contradicts existing state (duplicate, stale)
     ├── AuthenticationError      credentials, token or second factor refused (generic message)
     │    └── TooManyAttempts     login throttled or account temporarily locked
     ├── PermissionDenied         the principal may not do this (TLP or role)
     ├── ValidationError          input is malformed; ``location`` says where
     │    └── ParseError          bytes could not be decoded as JSON/CSV/XML (line, column)
     ├── FetchError               an outside server failed or answered badly
     │    └── UnsafeURL           an outbound URL is refused (SSRF guard)
     └── JobError                 a job failed
          └── RetryableJobError   a transient failure: the worker retries with back-off
"""

from __future__ import annotations

from typing import Any


class NcaShareError(Exception):
    """Base of every error nca_share raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ConfigError(NcaShareError):
    code = "config_error"


class NotFound(NcaShareError):
    code = "not_found"


class Conflict(NcaShareError):
    code = "conflict"


class AuthenticationError(NcaShareError):
    """Who is asking could not be established; the message never says which part was wrong."""

    code = "authentication_failed"


class TooManyAttempts(AuthenticationError):
    """Too many failed attempts: refused until ``details["retry_after"]`` (ISO time) passes."""

    code = "too_many_attempts"


class PermissionDenied(NcaShareError):
    code = "permission_denied"


class ValidationError(NcaShareError):
    """Input is malformed. ``location`` names where (object index/id, field, line)."""

    code = "validation_error"

    def __init__(
        self, message: str, *, location: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.location = location

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class ParseError(ValidationError):
    """Bytes could not be decoded; ``line`` and ``column`` are 1-based where known."""

    code = "parse_error"

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        location: str | None = None,
    ) -> None:
        loc = location
        if line is not None:
            loc = f"{location + ' ' if location else ''}line {line}, column {column or 0}"
        super().__init__(message, location=loc, details={"line": line, "column": column})
        self.line = line
        self.column = column


class FetchError(NcaShareError):
    code = "fetch_error"


class UnsafeURL(FetchError):
    code = "unsafe_url"


class IngestError(NcaShareError):
    """An ingest stopped for a reason other than its input (the batches before it stay)."""

    code = "ingest_error"


class JobError(NcaShareError):
    code = "job_error"


class RetryableJobError(JobError):
    code = "retryable_job_error"
