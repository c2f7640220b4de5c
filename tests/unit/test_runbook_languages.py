"""Runbook bodies read in one language: every bundled step has both, and a step's prose in
Chinese holds no English paragraph (and the other way round)."""

from __future__ import annotations

import re

import pytest

from runbooks.procedures import TicketFacts, bundled_runbooks, fill_text, prose_in, title_in

_CJK = re.compile(r"[\u4e00-\u9fff]")
STEPS = [
    (runbook.name, step)
    for runbook in bundled_runbooks().runbooks.values()
    for step in runbook.steps
]


@pytest.mark.parametrize(("name", "step"), STEPS, ids=[f"{n}-{s.number}" for n, s in STEPS])
def test_every_step_reads_in_both_languages(name: str, step: object) -> None:
    zh = prose_in(step.body, "zh")  # type: ignore[attr-defined]
    en = prose_in(step.body, "en")  # type: ignore[attr-defined]
    assert zh != en
    assert len(_CJK.findall(zh)) > 20
    # English may quote a Chinese word (接入点物业), never a Chinese sentence.
    assert len(_CJK.findall(en)) <= 5
    assert title_in(step.title, "zh") != title_in(step.title, "en")  # type: ignore[attr-defined]


def test_a_chinese_paragraph_naming_latin_products_stays_chinese() -> None:
    body = (
        "The bundle: an EtherChannel on Cisco.\n\n"
        "链路聚合：Cisco 上是 EtherChannel，Arista 上是 port-channel。"
    )
    assert prose_in(body, "zh").startswith("链路聚合")
    assert prose_in(body, "en") == "The bundle: an EtherChannel on Cisco."


def test_placeholders_and_markdown_marks_are_filled_in_and_taken_off() -> None:
    facts = TicketFacts(category="link_down", device="a", interface="Et1", peer_device="b")
    assert fill_text("far end {peer_device} {peer_interface}, *their* `x`", facts) == (
        "far end b —, their x"
    )
