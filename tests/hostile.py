"""The hostile corpus: strings a contact might type or a device might send, and what each must
never do once shown. Every surface's test feeds these through and checks the output.

Each entry is (name, text). ``MUST_NOT_REACH_TERMINAL`` are the raw characters that may never
be written to a terminal, a table or a message; ``WITHOUT_ESCAPES`` is what a person must still
read (the literal words around them).
"""

from __future__ import annotations

from typing import Final

ESC: Final = "\x1b"

CORPUS: Final[tuple[tuple[str, str], ...]] = (
    ("click-quit", "[@click=app.quit]Click me[/]"),
    ("rich-markup", "[bold red]URGENT[/bold red] [link=https://evil.example]login[/link]"),
    ("bad-markup", "[/] unbalanced [b]close[/i] tag ["),
    ("csi-clear", "\x1b[2J\x1b[H\x1b[7Acleared"),
    ("csi-colour", "\x1b[31mred\x1b[0m \x9b31mc1-csi"),
    ("osc-title", "\x1b]0;pwned title\x07after"),
    ("osc8-link", "\x1b]8;;https://evil.example/\x1b\\click here\x1b]8;;\x1b\\"),
    ("bidi", "invoice\u202egpj.exe \u2066isolated\u2069 \u200fmark"),
    ("nul-bell", "before\x00nul\x07bell\x08back\rreturn"),
    ("emoji", "光纤中断 🔥💥 👩‍👩‍👧 ✔"),
    ("cjk", "曹河泾主机房 核心交换机 端口 Gi0/1 宕机（北京时间）"),
    (
        "wecom-mention",
        '<@all> @all 请大家注意 <font color="warning">红色</font> **粗体** [链接](https://evil.example)',
    ),
    ("markdown-heading", "# heading\n> quote\n- list\n`code` ~~strike~~ _em_"),
    ("html", "<script>alert(1)</script>&amp;<b>bold</b>"),
    ("line-separators", "one\u2028two\u2029three\nfour\tfive"),
)

BIG_BODY: Final = ("一行很长的文字 line of text \x1b[2J " * 40_000)[:1_000_000]
"""One megabyte of text, with a clear-screen every 30 characters."""

MUST_NOT_REACH_TERMINAL: Final = (
    "\x1b",
    "\x9b",
    "\x00",
    "\x07",
    "\x08",
    "\u202e",
    "\u2066",
    "\u2069",
    "\u200f",
    "\u2028",
    "\u2029",
)


def raw_controls(output: str) -> list[str]:
    """The forbidden raw characters that occur in ``output`` (empty when it is safe)."""
    return [repr(c) for c in MUST_NOT_REACH_TERMINAL if c in output]


def words(text: str) -> list[str]:
    """The plain words of ``text`` a reader must still find in what is shown."""
    plain = "".join(c if c.isalnum() else " " for c in text)
    return [w for w in plain.split() if len(w) >= 4 and not w.startswith(("x1b", "u20"))]
