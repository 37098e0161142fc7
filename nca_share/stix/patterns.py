"""Observables from STIX indicator patterns.

This module owns :func:`extract_from_pattern`, the hot-path extraction used by ingest, and
:func:`reference_extract`, the same extraction done only with the ``stix2-patterns`` ANTLR
parser (the oracle the tests compare against).

The fast path is a hand-written tokenizer and recursive-descent parser for the common subset of
the STIX pattern grammar: observation expressions in ``[...]`` joined by ``AND``/``OR`` and
parenthesised, comparison expressions joined by ``AND``/``OR`` and parenthesised, comparisons
``object-type:path OP 'string'`` with ``NOT``, ``=``/``==``/``!=``/``<>``/``<``/``<=``/``>``/
``>=``/``LIKE``/``MATCHES``/``ISSUBSET``/``ISSUPERSET`` and ``IN`` with a set of strings.
A single ``[type:path OP 'value']`` is matched by one regular expression before the tokenizer.
Anything else (qualifiers, FOLLOWEDBY, ``EXISTS``, non-string literals, comments, keywords used
as names, very deep nesting) makes the fast path give up, and the parser decides. The fast path
never accepts a pattern the parser rejects, so both give the same answer on every input
(the tests check this on all shared data and on generated patterns); invalid patterns give
``[]``. One exception: the ANTLR parser hits Python's recursion limit on chains of roughly 900+
comparisons and then counts the (valid) pattern as invalid; the fast path handles such chains
iteratively, so it finds their observables (unless the pattern also needs the parser).

Which comparisons yield an observable (the same rule for both paths):

- equality (``=``/``==``, or ``IN`` for each string of the set; not negated) on
  ``ipv4-addr:value``, ``ipv6-addr:value``, ``network-traffic:dst_ref.value``/``src_ref.value``
  and ``domain-name:resolves_to_refs[*].value`` (an IP, or a domain name for the refs),
  ``domain-name:value``, ``url:value``, ``email-addr:value``,
  ``email-message:from_ref.value``/``sender_ref.value``/``to_refs[*].value``/
  ``cc_refs[*].value``/``bcc_refs[*].value``, ``file:hashes.<MD5|SHA-1|SHA-256|SHA-512>``
  (also ``artifact``), ``software:cpe``;
- ``ISSUBSET``/``ISSUPERSET`` (not negated) on the IP paths above: the address or CIDR.

The result is de-duplicated and sorted by (kind, value).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Final

from stix2patterns.v20.pattern import Pattern as Pattern20
from stix2patterns.v21.pattern import Pattern as Pattern21

from nca_share.stix.observables import Observable, hash_kind, ip_observable, normalize

__all__ = ["extract_from_pattern", "fast_extract", "reference_extract"]

log = logging.getLogger(__name__)

#: (object type, property path without list indices, operator, negated, string value)
Comparison = tuple[str, tuple[str, ...], str, bool, str]

_MAX_PATTERN = 1 << 20
_MAX_DEPTH = 40

# Every keyword of the STIX 2.0 and 2.1 pattern lexers (case-sensitive there). A name equal to
# one of these is a keyword token for the parser, so the fast path gives up on it.
_KEYWORDS: Final = frozenset(
    {
        "AND",
        "OR",
        "NOT",
        "FOLLOWEDBY",
        "LIKE",
        "MATCHES",
        "ISSUPERSET",
        "ISSUBSET",
        "EXISTS",
        "LAST",
        "IN",
        "START",
        "STOP",
        "SECONDS",
        "true",
        "false",
        "WITHIN",
        "REPEATS",
        "TIMES",
    }
)
_WORD_OPS: Final = frozenset({"LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"})

# Token kinds (single characters so the parser compares cheaply).
_WS = "w"
_STR = "s"
_ID = "i"
_OP = "o"
_PUNCT = "p"
_INT = "n"
_BAD = "x"

_TOKEN: Final = re.compile(
    r"(?P<w>[ \t\r\n\x0b\x0c\x85\xa0\u2028\u2029]+)"
    r"|(?P<s>'(?:[^'\\]|\\['\\])*')"
    r"|(?P<i>[A-Za-z_][A-Za-z0-9_-]*)"
    r"|(?P<o>==|!=|<>|<=|>=|=|<|>)"
    r"|(?P<p>[\[\]():.*,])"
    r"|(?P<n>0|[1-9][0-9]*)"
    r"|(?P<x>.)",
    re.DOTALL,
)
_UNESCAPE: Final = re.compile(r"\\(['\\])")

# The most common shape of all, one comparison in one observation (``[type:path = 'value']``),
# matched by a single regular expression before the tokenizer runs.
_W = r"[ \t\r\n\x0b\x0c\x85\xa0\u2028\u2029]*"
_S = r"'(?:[^'\\]|\\['\\])*'"
_N = r"[A-Za-z_][A-Za-z0-9_]*"
_SINGLE: Final = re.compile(
    rf"{_W}\[{_W}([A-Za-z_][A-Za-z0-9_-]*){_W}:{_W}((?:{_N}|{_S})(?:\.(?:{_N}|{_S}))*)"
    rf"{_W}(==|=|!=|<>|<=|>=|<|>){_W}({_S}){_W}\]{_W}",
    re.DOTALL,
)
# One observation of comparisons joined by AND/OR (``[a:b = 'x' OR c:d = 'y']``), the next
# most common shape: matched whole, then read comparison by comparison.
_W1 = r"[ \t\r\n\x0b\x0c\x85\xa0\u2028\u2029]+"
_CMP_TEXT = (
    rf"([A-Za-z_][A-Za-z0-9_-]*){_W}:{_W}((?:{_N}|{_S})(?:\.(?:{_N}|{_S}))*)"
    rf"{_W}(==|=|!=|<>|<=|>=|<|>){_W}({_S})"
)
_CMP: Final = re.compile(_CMP_TEXT, re.DOTALL)
_JOIN: Final = re.compile(rf"{_W}(?:AND|OR){_W1}")
_MULTI: Final = re.compile(
    rf"{_W}\[{_W}(?:{_CMP_TEXT})(?:{_W}(?:AND|OR){_W1}(?:{_CMP_TEXT}))+{_W}\]{_W}", re.DOTALL
)
_OPEN: Final = re.compile(rf"{_W}\[{_W}")
_PATH_COMPONENT: Final = re.compile(rf"{_N}|{_S}")
_SET_MEMBER: Final = re.compile(rf"[A-Za-z]?{_S}|[^,']+")


def _unquote(literal: str) -> str:
    inner = literal[1:-1]
    if "\\" in inner:
        return _UNESCAPE.sub(r"\1", inner)
    return inner


class _GiveUp(Exception):
    """The fast path does not fully understand the pattern (internal)."""


class _Parser:
    """Recursive descent over the token list for the supported subset of the grammar."""

    __slots__ = ("kinds", "pos", "texts", "out")

    def __init__(self, kinds: list[str], texts: list[str]) -> None:
        self.kinds = kinds
        self.texts = texts
        self.pos = 0
        self.out: list[Comparison] = []

    def _peek(self) -> tuple[str, str]:
        if self.pos < len(self.kinds):
            return self.kinds[self.pos], self.texts[self.pos]
        return "", ""

    def _expect_punct(self, char: str) -> None:
        if (
            self.pos < len(self.kinds)
            and self.texts[self.pos] == char
            and (self.kinds[self.pos] == _PUNCT)
        ):
            self.pos += 1
            return
        raise _GiveUp

    def pattern(self) -> list[Comparison]:
        self._observations(0)
        if self.pos != len(self.kinds):
            raise _GiveUp
        return self.out

    def _observations(self, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise _GiveUp
        while True:
            kind, text = self._peek()
            if kind == _PUNCT and text == "[":
                self.pos += 1
                self._comparisons(depth + 1)
                self._expect_punct("]")
            elif kind == _PUNCT and text == "(":
                self.pos += 1
                self._observations(depth + 1)
                self._expect_punct(")")
            else:
                raise _GiveUp
            kind, text = self._peek()
            if kind == _ID and (text == "AND" or text == "OR"):
                self.pos += 1
                continue
            return

    def _comparisons(self, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise _GiveUp
        while True:
            kind, text = self._peek()
            if kind == _PUNCT and text == "(":
                self.pos += 1
                self._comparisons(depth + 1)
                self._expect_punct(")")
            else:
                self._comparison()
            kind, text = self._peek()
            if kind == _ID and (text == "AND" or text == "OR"):
                self.pos += 1
                continue
            return

    def _comparison(self) -> None:
        kinds, texts = self.kinds, self.texts
        n = len(kinds)
        pos = self.pos
        # object type
        if pos >= n or kinds[pos] != _ID or texts[pos] in _KEYWORDS:
            raise _GiveUp
        obj_type = texts[pos]
        pos += 1
        if pos >= n or texts[pos] != ":" or kinds[pos] != _PUNCT:
            raise _GiveUp
        pos += 1
        path: list[str] = []
        pos = self._path_component(pos, path)
        while pos < n and kinds[pos] == _PUNCT:
            char = texts[pos]
            if char == ".":
                pos = self._path_component(pos + 1, path)
            elif char == "[":
                if (
                    pos + 2 < n
                    and (kinds[pos + 1] == _INT or texts[pos + 1] == "*")
                    and texts[pos + 2] == "]"
                    and kinds[pos + 2] == _PUNCT
                ):
                    pos += 3
                else:
                    raise _GiveUp
            else:
                break
        # operator
        negated = False
        if pos < n and kinds[pos] == _ID and texts[pos] == "NOT":
            negated = True
            pos += 1
        if pos >= n:
            raise _GiveUp
        op_kind, op = kinds[pos], texts[pos]
        if op_kind == _OP:
            if op == "==":
                op = "="
            elif op == "<>":
                op = "!="
        elif op_kind == _ID and op == "IN":
            self.pos = self._set_literal(pos + 1, obj_type, tuple(path), negated)
            return
        elif op_kind != _ID or op not in _WORD_OPS:
            raise _GiveUp
        pos += 1
        if pos >= n or kinds[pos] != _STR:
            raise _GiveUp
        self.out.append((obj_type, tuple(path), op, negated, _unquote(texts[pos])))
        self.pos = pos + 1

    def _set_literal(self, pos: int, obj_type: str, path: tuple[str, ...], negated: bool) -> int:
        """``( 'a', 'b', ... )`` (string members only, else give up); one comparison each."""
        kinds, texts = self.kinds, self.texts
        n = len(kinds)
        if pos + 1 >= n or texts[pos] != "(" or kinds[pos] != _PUNCT:
            raise _GiveUp
        pos += 1
        if texts[pos] == ")" and kinds[pos] == _PUNCT:
            return pos + 1
        while True:
            if pos >= n or kinds[pos] != _STR:
                raise _GiveUp
            self.out.append((obj_type, path, "IN", negated, _unquote(texts[pos])))
            pos += 1
            if pos >= n or kinds[pos] != _PUNCT:
                raise _GiveUp
            if texts[pos] == ")":
                return pos + 1
            if texts[pos] != ",":
                raise _GiveUp
            pos += 1

    def _path_component(self, pos: int, path: list[str]) -> int:
        if pos >= len(self.kinds):
            raise _GiveUp
        kind, text = self.kinds[pos], self.texts[pos]
        if kind == _STR:
            path.append(_unquote(text))
        elif kind == _ID and text not in _KEYWORDS and "-" not in text:
            path.append(text)
        else:
            raise _GiveUp
        return pos + 1


def _single_comparison(pattern: str) -> list[Comparison] | None:
    m = _SINGLE.fullmatch(pattern)
    if m is None:
        return None
    found = _comparison(*m.groups())
    return None if found is None else [found]


def _joined_comparisons(pattern: str) -> list[Comparison] | None:
    """Comparisons joined by AND/OR in one observation, or None for any other shape."""
    if _MULTI.fullmatch(pattern) is None:
        return None
    opened = _OPEN.match(pattern)
    assert opened is not None  # the full match above starts with it
    pos = opened.end()
    result: list[Comparison] = []
    while True:
        m = _CMP.match(pattern, pos)
        assert m is not None  # the full match above guarantees each comparison
        found = _comparison(*m.groups())
        if found is None:
            return None
        result.append(found)
        joined = _JOIN.match(pattern, m.end())
        if joined is None:
            return result
        pos = joined.end()


def _comparison(obj_type: str, raw_path: str, op: str, literal: str) -> Comparison | None:
    if obj_type in _KEYWORDS:
        return None
    components = _PATH_COMPONENT.findall(raw_path) if "'" in raw_path else raw_path.split(".")
    path: list[str] = []
    for component in components:
        if component[0] == "'":
            path.append(_unquote(component))
        elif component in _KEYWORDS:
            return None
        else:
            path.append(component)
    if op == "==":
        op = "="
    elif op == "<>":
        op = "!="
    return (obj_type, tuple(path), op, False, _unquote(literal))


def fast_comparisons(pattern: str) -> list[Comparison] | None:
    """The comparisons of ``pattern`` if the fast path fully understands it, else None."""
    single = _single_comparison(pattern)
    if single is not None:
        return single
    joined = _joined_comparisons(pattern)
    if joined is not None:
        return joined
    kinds: list[str] = []
    texts: list[str] = []
    for m in _TOKEN.finditer(pattern):
        kind = m.lastgroup
        if kind == _WS:
            continue
        if kind == _BAD or kind is None:
            return None
        kinds.append(kind)
        texts.append(m.group())
    try:
        return _Parser(kinds, texts).pattern()
    except _GiveUp:
        return None


def _reference_comparisons(pattern: str) -> list[Comparison]:
    """The comparisons the ``stix2-patterns`` parser finds (STIX 2.1 grammar, then 2.0).

    Raises whatever the parser raises for an invalid pattern.
    """
    try:
        data = Pattern21(pattern).inspect()
    except Exception:  # noqa: BLE001 - any parser failure: try the 2.0 grammar
        data = Pattern20(pattern).inspect()
    result: list[Comparison] = []
    for obj_type, comparisons in data.comparisons.items():
        for path, op, literal in comparisons:
            negated = op.startswith("NOT ")
            if negated:
                op = op[4:]
            if op == "==":
                op = "="
            elif op == "<>":
                op = "!="
            if not isinstance(literal, str):
                continue
            components = tuple(c for c in path if isinstance(c, str))
            if op == "IN":
                # getText() of the set literal: its tokens without whitespace, e.g. "('a',1)"
                for member in _SET_MEMBER.findall(literal[1:-1]):
                    if member.startswith("'"):
                        result.append((obj_type, components, op, negated, _unquote(member)))
            elif literal.startswith("'"):
                result.append((obj_type, components, op, negated, _unquote(literal)))
    return result


# ---------------------------------------------------------------------------------------------
# comparison → observable


def _ip_or_domain(value: str) -> Observable | None:
    obs = ip_observable(value)
    if obs is not None:
        return obs
    return normalize("domain", value)


def _kind(kind: str) -> Callable[[str], Observable | None]:
    def convert(value: str) -> Observable | None:
        return normalize(kind, value)

    return convert


_EQUALITY: Final[Mapping[tuple[str, str], Callable[[str], Observable | None]]] = {
    ("ipv4-addr", "value"): ip_observable,
    ("ipv6-addr", "value"): ip_observable,
    ("network-traffic", "dst_ref.value"): _ip_or_domain,
    ("network-traffic", "src_ref.value"): _ip_or_domain,
    ("domain-name", "value"): _kind("domain"),
    ("domain-name", "resolves_to_refs.value"): _ip_or_domain,
    ("url", "value"): _kind("url"),
    ("email-addr", "value"): _kind("email"),
    ("email-message", "from_ref.value"): _kind("email"),
    ("email-message", "sender_ref.value"): _kind("email"),
    ("email-message", "to_refs.value"): _kind("email"),
    ("email-message", "cc_refs.value"): _kind("email"),
    ("email-message", "bcc_refs.value"): _kind("email"),
    ("software", "cpe"): _kind("cpe"),
}
_SUBSET_PATHS: Final = frozenset(
    {
        ("ipv4-addr", "value"),
        ("ipv6-addr", "value"),
        ("network-traffic", "dst_ref.value"),
        ("network-traffic", "src_ref.value"),
        ("domain-name", "resolves_to_refs.value"),
    }
)
_HASHED_TYPES: Final = frozenset({"file", "artifact"})


def _observable(comparison: Comparison) -> Observable | None:
    obj_type, path, op, negated, value = comparison
    if negated:
        return None
    if op == "=" or op == "IN":
        if len(path) == 2 and path[0] == "hashes" and obj_type in _HASHED_TYPES:
            kind = hash_kind(path[1])
            return normalize(kind, value) if kind is not None else None
        convert = _EQUALITY.get((obj_type, ".".join(path)))
        return convert(value) if convert is not None else None
    if (op == "ISSUBSET" or op == "ISSUPERSET") and (obj_type, ".".join(path)) in _SUBSET_PATHS:
        return ip_observable(value)
    return None


def observables_from_comparisons(comparisons: Iterable[Comparison]) -> list[Observable]:
    """The de-duplicated observables of ``comparisons``, sorted by (kind, value)."""
    found: set[Observable] = set()
    for comparison in comparisons:
        obs = _observable(comparison)
        if obs is not None:
            found.add(obs)
    return sorted(found)


# ---------------------------------------------------------------------------------------------
# public API


def fast_extract(pattern: str) -> list[Observable] | None:
    """Observables via the fast path only; None when the fast path gives up."""
    if not isinstance(pattern, str) or len(pattern) > _MAX_PATTERN:
        return None
    comparisons = fast_comparisons(pattern)
    if comparisons is None:
        return None
    return observables_from_comparisons(comparisons)


def reference_extract(pattern: str) -> list[Observable]:
    """Observables via the ``stix2-patterns`` parser only (the oracle); [] if invalid."""
    if not isinstance(pattern, str) or len(pattern) > _MAX_PATTERN:
        return []
    try:
        comparisons = _reference_comparisons(pattern)
    except Exception as exc:  # noqa: BLE001 - hostile input: any parser failure means "invalid"
        log.debug("invalid STIX pattern (%s): %.200s", type(exc).__name__, exc)
        return []
    return observables_from_comparisons(comparisons)


def extract_from_pattern(pattern: str) -> list[Observable]:
    """Observables of a STIX pattern: fast path, parser fallback; [] if invalid. Never raises."""
    result = fast_extract(pattern)
    if result is not None:
        return result
    return reference_extract(pattern)
