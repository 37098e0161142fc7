"""Delivery of messages to people and systems.

For now only a minimal e-mail sender lives here (``nca_share.notify.email``: ``Mailer`` and
``render_email``), used for account mail (verification, password reset). The distribution
issue adds routing, the durable outbox and the channel registry, and replaces the transport
behind ``Mailer.send``.
"""
