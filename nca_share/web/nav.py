"""Header navigation entries contributed by blueprint modules.

A view module defines ``NAV = (NavItem("explorer.search", _l("Objecten"), staff_only=True),)``
and the factory collects it when the module's blueprint is in ``BLUEPRINTS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NavItem:
    """One link in the header.

    :param endpoint: the Flask endpoint the link points to.
    :param label: a lazy translatable string (``lazy_gettext``).
    :param visible: decides per principal whether to show it (default: signed-in users).
    :param order: position in the header, low first (ties keep registry order).
    """

    endpoint: str
    label: Any
    visible: Callable[[Any], bool] | None = None
    order: int = 50


def nav_items() -> list[NavItem]:
    """The header links the current principal may see."""
    from flask import current_app

    from nca_share.web.session import current_principal

    principal = current_principal()
    shown = []
    for item in current_app.extensions.get("nca_share.nav", ()):
        allowed = item.visible(principal) if item.visible else principal.is_authenticated
        if allowed:
            shown.append(item)
    return shown
