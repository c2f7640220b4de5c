"""The pysnmp internals collectors.snmp overrides, checked so an upgrade fails here, loudly.

`collectors.snmp._Dispatcher` replaces `AbstractSnmpDispatcher._recv_callback` (its own BER
decoder, issue 3) and walks `_pendingReqs` (request-id → state with `cbFun`, `cbCtx` and
`transportTarget`) in `close()`. Neither is public API: if a pysnmp release renames or
reshapes them, the poller would silently time out on every request. These tests name what
changed instead.
"""

from __future__ import annotations

import inspect

from pysnmp.hlapi.v1arch import dispatch
from pysnmp.hlapi.v1arch.asyncio import SnmpDispatcher

from collectors.snmp import _Dispatcher


def test_recv_callback_is_still_the_upstream_hook_with_its_signature() -> None:
    upstream = vars(dispatch.AbstractSnmpDispatcher).get("_recv_callback")
    assert upstream is not None, "pysnmp no longer has AbstractSnmpDispatcher._recv_callback"
    names = list(inspect.signature(upstream).parameters)
    assert names == ["self", "snmpEngine", "transportDomain", "transportAddress", "wholeMsg"]
    ours = list(inspect.signature(_Dispatcher._recv_callback).parameters)
    assert len(ours) == len(names)
    source = inspect.getsource(dispatch.AbstractSnmpDispatcher.__init__)
    # The transport dispatcher must still route received datagrams to this method by name.
    assert "_recv_callback" in inspect.getsource(dispatch.AbstractSnmpDispatcher) + source


async def test_pending_requests_are_still_a_dict_of_states_with_the_keys_we_read() -> None:
    dispatcher = SnmpDispatcher()
    try:
        assert isinstance(dispatcher._pendingReqs, dict)
        source = inspect.getsource(dispatch.AbstractSnmpDispatcher)
        for key in ('"cbFun"', '"cbCtx"', '"transportTarget"'):
            assert key in source, f"pysnmp's pending-request state lost {key}"
        assert "job_finished" in source
    finally:
        dispatcher.close()


def test_send_pdu_still_keeps_the_pending_state_send_raw_writes() -> None:
    """`_Dispatcher.send_raw` writes upstream's pending-request record itself (issue 14): the
    timer must still retry from `outgoingMsg` and time out from `timestamp`/`retries`, and the
    send must still register the transport and start the job as upstream's does."""
    sent = inspect.getsource(dispatch.AbstractSnmpDispatcher.send_pdu)
    timer = inspect.getsource(dispatch.AbstractSnmpDispatcher._timer_callback)
    ours = inspect.getsource(_Dispatcher.send_raw)
    for key in ("outgoingMsg", "transportTarget", "cbFun", "cbCtx", "timestamp", "retries"):
        assert f"{key}=" in sent, f"pysnmp's send_pdu no longer records {key}"
        assert f'"{key}"' in ours
    for key in ('"outgoingMsg"', '"timestamp"', '"retries"', '"transportTarget"'):
        assert key in timer, f"pysnmp's retry timer no longer reads {key}"
    for call in ("register_transport", "send_message", "job_started", "_configuredTransports"):
        assert call in sent, f"pysnmp's send_pdu no longer calls {call}"
        assert call in ours
