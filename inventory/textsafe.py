"""Text a person typed or a device sent, made safe to show: one helper for every surface.

Titles, bodies, notes, sysDescr, LLDP names and interface descriptions are data. Shown on a
terminal, an ESC starts a control sequence (clear the screen, rewrite the title bar, an OSC 8
link), a NUL or a C1 byte confuses the emulator, and a bidi override makes ``evil.exe`` read as
``exe.live``. :func:`visible` writes every such character as its escape (``\\x1b``, ``\\u202e``),
so it is seen, not obeyed; everything else (CJK, emoji, punctuation) stays as it is.

Markup is a separate matter: Rich/Textual callers build ``Text`` objects from the result (never
format it into a markup string), and the robots' markdown goes through :func:`markdown_text`.
JSON and CSV exports keep the exact text and never pass through here.
"""

from __future__ import annotations

import re
from typing import Final

# Bidirectional embeddings, overrides, isolates and marks, and the Arabic letter mark: they
# reorder what the reader sees without showing themselves.
_BIDI: Final = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Line and paragraph separators break lines in some terminals and none in others.
_SEPARATORS: Final = "\u2028\u2029"

_ALWAYS: Final = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f" + _BIDI + _SEPARATORS
)  # C0 but tab and newline, DEL, C1
_ONE_LINE: Final = "\x00-\x1f\x7f-\x9f" + _BIDI + _SEPARATORS

_MULTI_LINE_RE: Final = re.compile(f"[{_ALWAYS}]")
_ONE_LINE_RE: Final = re.compile(f"[{_ONE_LINE}]")

_NAMED: Final = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}

DEFAULT_LIMIT: Final = 20_000
"""How many characters a screen or a message shows of one text before it says how much is left."""


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, one_line: bool = False) -> str:
    """``text`` with every control, bidi and separator character written as its escape.

    Newlines and tabs are kept unless ``one_line`` (a table cell, a subject, a log line), where
    they too become ``\\n`` and ``\\t``.
    """
    pattern = _ONE_LINE_RE if one_line else _MULTI_LINE_RE
    return pattern.sub(_escape, text)


def clip(text: str, limit: int = DEFAULT_LIMIT) -> str:
    """At most ``limit`` characters of ``text``, saying how many were left out (en and zh)."""
    if len(text) <= limit:
        return text
    left = len(text) - limit
    return f"{text[:limit]}… ({left} more characters / 另有 {left} 个字符未显示)"


def shown(text: str | None, *, one_line: bool = False, limit: int = DEFAULT_LIMIT) -> str:
    """What a screen shows of ``text``: clipped, then made :func:`visible`."""
    if not text:
        return ""
    return visible(clip(text, limit), one_line=one_line)


# What forms markup in the robots' markdown subset inside a line: emphasis, code, links, strike.
_MARKDOWN_SPECIAL_RE: Final = re.compile(r"([\\`*_\[\]~])")


def markdown_text(text: str | None, *, limit: int = 2_000) -> str:
    """``text`` for a markdown message (WeCom, DingTalk robots): one line, its markdown
    punctuation backslash-escaped, ``<`` and ``>`` as entities so no ``<font>`` or ``<@all>``
    tag forms, and ``@`` as the full-width ``＠`` so no one in the group is mentioned."""
    if not text:
        return ""
    line = visible(clip(text, limit), one_line=True)
    line = _MARKDOWN_SPECIAL_RE.sub(r"\\\1", line)
    return line.replace("<", "&lt;").replace(">", "&gt;").replace("@", "＠")
