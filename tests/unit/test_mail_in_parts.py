"""The mail gateway's pure parts: what text a mail carries, which mail is automatic, and what
an attachment may be called on disk."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from tickets.mail_in import _safe_name, body_text, is_automatic, message_key


def _mail(**headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = headers.pop("From", "Someone <someone@example.net>")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    return message


def test_an_html_only_mail_is_reduced_to_its_text_never_rendered() -> None:
    message = _mail()
    message.set_content(
        "<html><head><style>p {color: red}</style><script>alert(1)</script></head>"
        "<body><p>Port <b>down</b></p><p>[bold]since[/bold] 09:00</p></body></html>",
        subtype="html",
    )
    assert body_text(message) == "Port down\n[bold]since[/bold] 09:00"


def test_the_plain_part_wins_over_html() -> None:
    message = _mail()
    message.set_content("plain words")
    message.add_alternative("<p>html words</p>", subtype="html")
    assert body_text(message) == "plain words"


@pytest.mark.parametrize(
    ("headers", "automatic"),
    [
        ({}, False),
        ({"Auto_Submitted": "auto-replied"}, True),
        ({"Auto_Submitted": "no"}, False),
        ({"Precedence": "bulk"}, True),
        ({"From": "MAILER-DAEMON@mx.example.net"}, True),
        ({"From": ""}, True),
    ],
)
def test_automatic_mail_is_recognised(headers: dict[str, str], automatic: bool) -> None:
    assert is_automatic(_mail(**headers)) is automatic


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\evil.exe", "evil.exe"),
        ("名单 (1).xlsx", "名单 (1).xlsx"),
        ("a;rm -rf $HOME.txt", "a_rm -rf _HOME.txt"),
        ("..", "attachment-3"),
        ("", "attachment-3"),
    ],
)
def test_attachment_names_stay_inside_their_folder(given: str, stored: str) -> None:
    assert _safe_name(given, 3) == stored


def test_a_mail_without_message_id_still_has_a_stable_key() -> None:
    message = _mail(Subject="x")
    message.set_content("same")
    assert message_key(message) == message_key(message)
    assert message_key(message).startswith("sha256:")
