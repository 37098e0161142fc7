"""Accounts of nca_share: users, roles, e-mail verification and password reset, TOTP second
factor with recovery codes, API tokens, login throttling and the append-only audit log.

Modules: ``models`` (tables), ``service`` (``AuthService``, the one entry point for every
surface), ``audit`` (``AuditLog``), ``scopes`` (the API token scopes and which roles may
hold them), ``crypto`` (random tokens, digests, Fernet encryption at rest). Who may *see*
what is decided in ``nca_share.access``, not here.
"""
