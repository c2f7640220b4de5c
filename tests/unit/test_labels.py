"""The system's ticket titles in Chinese; a person's title as they wrote it."""

from __future__ import annotations

import pytest

from tickets.labels import ticket_title


@pytest.mark.parametrize(
    ("title", "zh"),
    [
        (
            "Link down: chj-ex-core1 Ethernet1/3 (democdn)",
            "链路中断: chj-ex-core1 Ethernet1/3 (democdn)",
        ),
        (
            "Trunk down: chj-ex-core1 Ethernet1/18 (CHJ to NDR)",
            "中继链路中断: chj-ex-core1 Ethernet1/18 (CHJ to NDR)",
        ),
        ("Flapping: zj-acc1 HundredGigE1/0/26", "链路抖动: zj-acc1 HundredGigE1/0/26"),
        ("Threshold crossed (rx_power): zj-acc1 Te1/0/1", "阈值越限 (rx_power): zj-acc1 Te1/0/1"),
        ("Fan failed: ndr-acc1 Fan 2", "风扇故障: ndr-acc1 Fan 2"),
        ("Device unreachable: zhr-acc2", "设备不可达: zhr-acc2"),
        ("Something new: x", "Something new: x"),  # a title the table does not know: as it is
    ],
)
def test_system_titles_read_in_chinese(title: str, zh: str) -> None:
    assert ticket_title(title, source="event", zh=True) == zh
    assert ticket_title(title, source="event", zh=False) == title


def test_a_persons_title_is_theirs_in_any_language() -> None:
    assert ticket_title("Link down: our port", source="person", zh=True) == "Link down: our port"
