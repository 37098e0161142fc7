"""Decoding STIX input bytes: whole, or the objects array piece by piece.

Owns: reading a bundle, a TAXII envelope, a single object or a JSON list of objects from
bytes (``parse_stix_bytes``), and ``SegmentedInput``, which cuts the objects array of a large
input into pieces of about ``segment_bytes`` at boundaries between elements and decodes them
one at a time. The ingest's preparation process uses the pieces, so checking and storing
start after the first piece instead of after the whole input, and only a piece's objects are
held at a time.

Every cut is proved, not guessed. The bytes before the array are read by a small tokenizer
(strings and nesting respected); the bytes around the array are decoded with a placeholder
array in its place, which must come back as the input's objects; a piece is accepted only if
it decodes as a non-empty list of complete values right after an accepted cut, and then it
ends at an element boundary too. A candidate cut inside a string or a nested value fails to
decode and is widened to a later one. So the pieces hold exactly the objects
``parse_stix_bytes`` returns, in order. On a malformed input the pieces before the damage
are returned and then the error is raised exactly as ``parse_stix_bytes`` raises it (line
and column in the whole input); an input that cannot be cut is decoded whole.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any, Final

import orjson

from nca_share.errors import ParseError, ValidationError

__all__ = ["SegmentedInput", "decode_piece", "parse_stix_bytes", "stix_objects_of"]

_BOM: Final = b"\xef\xbb\xbf"
_JSON_SPACE: Final = b" \t\n\r"
#: How far into the input the start of the objects array is looked for.
_HEADER_LIMIT: Final = 1 << 20
_TOKEN: Final = re.compile(
    rb'[ \t\n\r]*(?:("(?:[^"\\]|\\.)*")|([{}\[\]:,])|([^ \t\n\r"{}\[\]:,]+))', re.DOTALL
)
#: A boundary between two elements where the next starts with a key STIX serialisers put
#: first (group 1 is the comma) ...
_CUT: Final = re.compile(
    rb'\}[ \t\n\r]*(,)[ \t\n\r]*\{[ \t\n\r]*"(?:type|id|spec_version)"[ \t\n\r]*:'
)
#: ... or any "}, {" when no such boundary is near (objects with other first keys).
_ANY_CUT: Final = re.compile(rb"\}[ \t\n\r]*(,)[ \t\n\r]*\{")
#: Candidate cuts are looked for this many segment sizes ahead, no further.
_CUT_WINDOW: Final = 8
#: Failed candidate cuts in a row before the rest of the array is decoded in one piece.
_WIDEN: Final = 4
#: The one property value every marking definition has, as it appears in the input.
_MARKING_TYPE: Final = b'"marking-definition"'
#: \u escapes of letters of ``marking-definition`` (they could hide one from that search).
_ESCAPED_LETTER: Final = re.compile(rb"\\u00(?:2[dD]|6[1-9a-fA-F]|7[0-4])")


def stix_objects_of(doc: Any, origin: str = "input") -> tuple[list[Any], str | None]:
    """The objects of a decoded bundle, TAXII envelope, single object or list of objects,
    and the bundle's ``spec_version`` (None when not given).

    :raises ValidationError: JSON, but not STIX-shaped at the top level.
    """
    if isinstance(doc, list):
        return doc, None
    if isinstance(doc, dict):
        objects = doc.get("objects")
        if doc.get("type") == "bundle" or ("type" not in doc and isinstance(objects, list)):
            spec = doc.get("spec_version")
            if objects is None:
                return [], spec if isinstance(spec, str) else None
            if not isinstance(objects, list):
                raise ValidationError("bundle 'objects' must be a list", location=origin)
            return objects, spec if isinstance(spec, str) else None
        if "type" in doc:
            return [doc], None
    raise ValidationError(
        "not STIX: expected a bundle, an object or a list of objects", location=origin
    )


def parse_stix_bytes(data: bytes, origin: str = "input") -> tuple[list[Any], str | None]:
    """Decode a bundle, a TAXII envelope, a single object or a JSON list of objects.

    :returns: the objects and the bundle's ``spec_version`` (None when not given).
    :raises ParseError: the bytes are not JSON (with line and column).
    :raises ValidationError: JSON, but not STIX-shaped at the top level.
    """
    if data.startswith(_BOM):
        data = data[3:]
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as first:
        # Invalid UTF-8 or lone surrogates inside strings: decode tolerantly so the objects
        # around them survive; the damaged objects are quarantined later (they do not encode).
        try:
            doc = json.loads(data.decode("utf-8", "surrogateescape"))
        except RecursionError:
            raise ParseError("JSON nested too deeply to read", location=origin, line=None) from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ParseError(
                f"malformed JSON: {first.msg}",
                line=first.lineno,
                column=first.colno,
                location=origin,
            ) from None
    return stix_objects_of(doc, origin)


class SegmentedInput:
    """The objects of one input, decoded piece by piece (see the module docstring).

    Iterate for the pieces (lists of objects, in input order). ``bundle_spec`` is known
    from the start; ``position`` is the byte offset read up to so far; an object whose
    ``type`` is ``marking-definition`` can only occur before ``marking_horizon`` (read at
    least that far before using any object, if every marking definition must be known).

    :raises ParseError: from the constructor or the iteration, as ``parse_stix_bytes``.
    :raises ValidationError: likewise.
    """

    def __init__(self, data: bytes, origin: str = "input", segment_bytes: int = 1 << 20) -> None:
        self._data = data
        self._origin = origin
        self._size = max(1, segment_bytes)
        self._offset = 3 if data.startswith(_BOM) else 0
        self.bundle_spec: str | None = None
        self.position = self._offset
        #: the byte range of the piece last yielded (``decode_piece`` reads it again), or
        #: None when it was not cut out of the input
        self.bounds: tuple[int, int] | None = None
        self._whole: list[Any] | None = None
        bounds = self._array_bounds()
        if bounds is None:  # cannot be cut: decoded whole, right away
            self._whole, self.bundle_spec = parse_stix_bytes(data, origin)
            self._open = self._close = len(data)
            self.marking_horizon = len(data)
            return
        self._open, self._close = bounds
        self.marking_horizon = self._horizon()

    @property
    def size(self) -> int:
        """Bytes of the objects array (the whole input when it is not cut)."""
        return max(1, self._close - self._open)

    @property
    def read_bytes(self) -> int:
        """Bytes of the objects array decoded so far."""
        return max(0, min(self.position, self._close) - self._open)

    def __iter__(self) -> Iterator[list[Any]]:
        if self._whole is not None:
            self.position, self.bounds = len(self._data), None
            yield self._whole
            return
        data, close = self._data, self._close
        cut = self._open  # the last accepted boundary: the '[' or a ','
        returned = 0
        while True:
            start = cut + 1
            candidate = self._candidate(start + self._size)
            failures = 0
            while True:
                end = close if candidate is None else candidate
                piece = decode_piece(data, start, end)
                if piece is not None and (piece or (cut == self._open and end == close)):
                    break
                if candidate is None:
                    # The rest does not decode: the input is malformed here (raised exactly
                    # as a whole decode reports it), or something about it defeated the
                    # cutting, and then the whole decode gives the rest.
                    objects, spec = parse_stix_bytes(data, self._origin)
                    if returned and spec != self.bundle_spec:
                        # the array did not end where it seemed to, and the spec_version
                        # after it differs from the one the earlier pieces were read with
                        raise ValidationError(
                            "the bundle's spec_version follows its objects and a list; "
                            "put 'objects' last to ingest it",
                            location=self._origin,
                        )
                    self.bundle_spec = spec
                    self.position, self.bounds = len(data), None
                    if len(objects) > returned:
                        yield objects[returned:]
                    return
                failures += 1
                candidate = self._candidate(candidate + 1) if failures < _WIDEN else None
            returned += len(piece)
            self.position, self.bounds = end, (start, end)
            yield piece
            if end == close:
                return
            cut = end

    def _candidate(self, at: int) -> int | None:
        """The comma of the next likely element boundary at or after ``at``."""
        close = self._close
        if at >= close:
            return None
        stop = min(close, at + _CUT_WINDOW * self._size)
        match = _CUT.search(self._data, at, stop) or _ANY_CUT.search(self._data, at, stop)
        return None if match is None else match.start(1)

    def _array_bounds(self) -> tuple[int, int] | None:
        """Offsets of the objects array's ``[`` and ``]``, or None if the array is not found.

        The ``]`` is the input's last one, proved by decoding the bytes around the array
        with a placeholder in its place (and again when the last piece decodes). When that
        fails (a truncated or damaged end), the array is read up to the end of the input and
        only the bytes before it are proved: the pieces before the damage are still read.
        """
        data = self._data
        found = _array_start(data, self._offset)
        if found is None:
            return None
        opening, top_level = found
        end = len(data)
        while end > opening and data[end - 1] in _JSON_SPACE:
            end -= 1
        if top_level:  # a list of objects ends with the input
            return opening, end - 1 if data[end - 1 : end] == b"]" else len(data)
        closing = data.rfind(b"]", opening, end)
        if closing > opening and self._proves(opening, data[closing + 1 :]):
            return opening, closing
        if self._proves(opening, b"}"):
            return opening, len(data)
        return None

    def _proves(self, opening: int, suffix: bytes) -> bool:
        """True if the bytes before the array, a placeholder array and ``suffix`` decode to
        a bundle or envelope whose objects are the placeholder (then ``bundle_spec`` is set)."""
        marker = uuid.uuid4().hex
        envelope = b"".join(
            (self._data[self._offset : opening], b'["', marker.encode(), b'"]', suffix)
        )
        try:
            objects, spec = stix_objects_of(orjson.loads(envelope), self._origin)
        except (orjson.JSONDecodeError, ValidationError):
            return False
        if objects != [marker]:
            return False
        self.bundle_spec = spec
        return True

    def _horizon(self) -> int:
        data = self._data
        if _ESCAPED_LETTER.search(data, self._open, self._close) is not None:
            return self._close  # escaped letters could spell one: look at everything first
        last = data.rfind(_MARKING_TYPE, self._open, self._close)
        return 0 if last < 0 else last + len(_MARKING_TYPE)


def decode_piece(data: bytes, start: int, end: int) -> list[Any] | None:
    """``data[start:end]`` as the elements of a JSON list, or None if they are not (the
    same decoding as ``parse_stix_bytes``, tolerant fallback included)."""
    text = b"".join((b"[", memoryview(data)[start:end], b"]"))
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        message = str(exc)
        if "UTF-8" not in message and "surrogate" not in message:
            return None
        try:  # as parse_stix_bytes: damaged strings survive, their objects are quarantined
            value = json.loads(text.decode("utf-8", "surrogateescape"))
        except (ValueError, RecursionError):
            return None
    return value if isinstance(value, list) else None


_KEY, _COLON, _VALUE, _NEXT = range(4)


def _array_start(data: bytes, offset: int) -> tuple[int, bool] | None:
    """Offset of the ``[`` of the top-level list (and True), or of the top-level object's
    ``objects`` array (and False); None if neither is found in the first ``_HEADER_LIMIT``
    bytes."""
    limit = min(len(data), offset + _HEADER_LIMIT)
    position = offset
    depth = 0
    state = _KEY
    key = b""
    while position < limit:
        match = _TOKEN.match(data, position)
        if match is None:
            return None
        string, punct, _word = match.groups()
        at = match.start(match.lastindex or 0)
        position = match.end()
        if depth == 0:
            if punct == b"[":
                return at, True
            if punct != b"{":
                return None
            depth, state = 1, _KEY
        elif depth == 1:
            if state == _KEY:
                if string is None:
                    return None
                key, state = string, _COLON
            elif state == _COLON:
                if punct != b":":
                    return None
                state = _VALUE
            elif state == _VALUE:
                if punct == b"[" and _is_objects_key(key):
                    return at, False
                if punct in (b"{", b"["):
                    depth += 1
                elif punct is not None:
                    return None
                state = _NEXT
            elif punct != b",":
                return None
            else:
                state = _KEY
        elif punct in (b"{", b"["):
            depth += 1
        elif punct in (b"}", b"]"):
            depth -= 1
    return None


def _is_objects_key(key: bytes) -> bool:
    if key == b'"objects"':
        return True
    if b"\\" not in key:
        return False
    try:
        return bool(orjson.loads(key) == "objects")
    except orjson.JSONDecodeError:
        return False
