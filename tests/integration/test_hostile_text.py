"""The hostile corpus through the command line and the notifications: shown literally, control
characters visible, never obeyed; JSON exact."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from inventory.textsafe import markdown_text, visible
from ixops.cli import main
from ixops.cliapp import App
from tests.hostile import BIG_BODY, CORPUS, raw_controls
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import EXAMPLE, World
from tickets import notify_render

world = ticket_fixtures.world
example_inventory = ticket_fixtures.example_inventory

TITLES = [(name, text) for name, text in CORPUS if "\x00" not in text]


@pytest.fixture
def env(
    world: World, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    monkeypatch.setattr(App, "now", lambda self: world.now)
    return {
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": database_url,
        "IXOPS_INVENTORY": str(EXAMPLE),
        "IXOPS_SECRETS_FILE": str(tmp_path / "home" / "secrets.yaml"),
        "COLUMNS": "400",
    }


def squeeze(text: str) -> str:
    return "".join(text.split())


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_the_corpus_is_shown_literally_by_ticket_list_and_show(env: dict[str, str]) -> None:
    numbers: dict[str, str] = {}
    for name, title in TITLES:
        code, out, err = run(env, "ticket", "open", "--title", title, "--body", f"{title}\n{title}",
                             "--device", "chj-ex-core1", "--interface", "Ethernet1/1",
                             "--as", "cx")  # fmt: skip
        assert code == 0, (name, err)
        assert not raw_controls(out), name
        numbers[name] = out.split()[1].rstrip(":")
    # NUL is refused with a message naming the field and where, on both backends alike.
    code, _, err = run(env, "ticket", "open", "--title", "before\x00after", "--as", "cx")
    assert code == 1
    assert "title contains a NUL character (\\x00) at position 7" in err

    code, out, err = run(env, "ticket", "list", "--as", "eng")
    assert code == 0, err
    assert raw_controls(out) == []
    for _name, title in TITLES:
        assert visible(title, one_line=True) in out, title
    # The markup stayed words: the brackets are all there.
    assert "[@click=app.quit]Click me[/]" in out
    assert "[bold red]URGENT[/bold red]" in out

    code, out, _ = run(env, "ticket", "list", "--format", "json", "--as", "eng")
    by_number = {t["number"]: t["title"] for t in json.loads(out)}
    for name, title in TITLES:
        assert by_number[numbers[name]] == title  # exact, controls and all

    for name, title in TITLES:
        code, out, err = run(env, "ticket", "show", numbers[name], "--as", "cx")
        assert code == 0, err
        assert raw_controls(out) == [], name
        assert f"{numbers[name]}  {visible(title, one_line=True)}" in out
        # Rich expands tabs to spaces; compare without the whitespace.
        assert squeeze(visible(f"{title}\n{title}")) in squeeze(out)
        code, out, _ = run(env, "ticket", "show", numbers[name], "--format", "json", "--as", "cx")
        document = json.loads(out)
        assert document["title"] == title
        assert document["timeline"][0]["body"] == f"{title}\n{title}"


def test_a_megabyte_body_is_shown_whole_and_inert(env: dict[str, str]) -> None:
    code, out, err = run(env, "ticket", "open", "--title", "big", "--body", BIG_BODY, "--as", "cx")
    assert code == 0, err
    number = out.split()[1].rstrip(":")
    code, out, _ = run(env, "ticket", "show", number, "--as", "cx")
    assert code == 0
    assert raw_controls(out) == []
    assert out.count("\\x1b[2J") == BIG_BODY.count("\x1b")
    code, out, _ = run(env, "ticket", "show", number, "--format", "json", "--as", "cx")
    assert json.loads(out)["timeline"][0]["body"] == BIG_BODY


FACTS = {
    "number": "IX-2026-000042",
    "severity": "major",
    "category": "link_down",
    "site": "CHJ",
    "device": "chj-ex-core1",
    "interface": "Ethernet1/1",
    "affected_units": ["excloud"],
    "opened_at": "2026-11-26T03:00:00+00:00",
}


@pytest.mark.parametrize(("name", "text"), CORPUS, ids=[n for n, _ in CORPUS])
def test_notifications_carry_the_corpus_inert(name: str, text: str) -> None:
    facts = FACTS | {"title": text, "device": text, "resolution": text}
    mail = notify_render.plain_text("resolved", facts, notify_render.CENTER)
    assert raw_controls(mail) == []
    assert visible(text, one_line=True) in mail
    subject = notify_render.subject("opened", facts)
    assert raw_controls(subject) == []
    assert "\n" not in subject
    assert "\r" not in subject

    title, body = notify_render.markdown("resolved", facts)
    assert raw_controls(body) == []
    assert markdown_text(text) in body
    # Nobody in the group is mentioned, no tag or link forms from the text.
    for forbidden in ("<@all>", "@all", "<font", "<script"):
        assert forbidden not in body
    assert re.search(r"(?<!\\)\]\(", body) is None  # a link needs an unescaped "]("
    # Each of the person's lines stays one quoted line: no heading or list from the text.
    assert all(line.startswith(("###", "**", ">")) or not line for line in body.splitlines())
    assert "\n" not in title

    document = notify_render.webhook_json("resolved", facts)
    assert document["ticket"]["title"] == text  # a webhook's JSON stays exact
