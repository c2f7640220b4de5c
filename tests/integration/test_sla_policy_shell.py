"""The application shell reads the SLA policy file ($IXOPS_SLA_POLICIES, or sla-policies.yaml
in IXOPS_HOME) before any ticket is read, and refuses a bad one by file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tickets.policies import activate

OFFICE_REQUESTS = """\
calendars:
  office: {kind: business_hours, opens_at: "09:00", closes_at: "18:00", weekdays: [1, 2, 3, 4, 5],
           uncovered_years: UNCOVERED}
policies:
  default: {response_budget_h: 4}
  critical: {response_budget_h: 4, resolution_budget_h: 24, pause_states: [waiting_access_unit]}
  request: {response_budget_h: 4, calendar: office, pause_states: [waiting_access_unit]}
rules:
  - {severity: critical, policy: critical}
  - {category: request, policy: request}
  - {policy: default}
"""


def test_the_application_shell_puts_the_file_in_force_or_refuses_a_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ixops.cliapp import App
    from ixops.settings import Settings
    from tickets.policies import active

    home = tmp_path / "home"
    home.mkdir()
    env = {"IXOPS_HOME": str(home), "IXOPS_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    assert Settings.from_env(env).sla_policies_path is None  # no file: the built-in set
    good = home / "sla-policies.yaml"
    good.write_text(OFFICE_REQUESTS.replace("UNCOVERED", "refuse"), encoding="utf-8")
    app = App(Settings.from_env(env))  # $IXOPS_HOME/sla-policies.yaml is found by itself
    before = active()
    try:
        app.engine()
        assert active().source == str(good)
        assert active().by_name("request").calendar.name == "office"
    finally:
        activate(before)
        app.engine().dispose()
    bad = tmp_path / "bad.yaml"
    bad.write_text("policies:\n  default: {response_budget_h: 0}\nrules: []\n", encoding="utf-8")
    broken = App(Settings.from_env({**env, "IXOPS_SLA_POLICIES": str(bad)}))
    with pytest.raises(SystemExit) as exited:
        broken.engine()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert f"{bad}:2: response_budget_h:" in err
    assert f"ixops: the SLA policy file {bad} is not usable" in err
    assert active() is before
