"""The collector registry: an explicit literal, every entry of the seam's shape (mypy checks
that), and an unknown name refused with the valid ones."""

from __future__ import annotations

import pytest

from collectors.seam import COLLECTORS, collector_class
from collectors.snmp import SnmpPoller
from collectors.ssh import SshCollector


def test_each_collector_is_registered_under_its_own_name() -> None:
    assert dict(COLLECTORS) == {"snmp": SnmpPoller, "ssh": SshCollector}
    assert all(cls.name == name for name, cls in COLLECTORS.items())


def test_an_unknown_collector_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"no collector named 'netconf' \(known: snmp, ssh\)"):
        collector_class("netconf")
