"""The request class of the app: query and form parameters never carry NUL characters.

PostgreSQL refuses NUL in text, SQLite truncates at it, and no legitimate parameter of this
platform contains one; they are removed at the edge so no endpoint (of any package) can
turn a stray ``%00`` into a server error.
"""

from __future__ import annotations

from flask import Request
from werkzeug.datastructures import MultiDict
from werkzeug.utils import cached_property


def _clean(params: MultiDict[str, str]) -> list[tuple[str, str]]:
    return [(k.replace("\x00", ""), v.replace("\x00", "")) for k, v in params.items(multi=True)]


class NcaRequest(Request):
    """A Flask request with NUL characters removed from ``args`` and ``form``."""

    @cached_property
    def args(self) -> MultiDict[str, str]:
        return self.parameter_storage_class(_clean(super().args))

    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        super()._load_form_data()
        self.__dict__["form"] = self.parameter_storage_class(_clean(self.__dict__["form"]))
