"""The command line's Prefect settings: which flow runs go without heartbeats."""
from __future__ import annotations

import pytest
from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

from flows.cli import HEARTBEAT_FREQUENCY_ENV, embedded_run_settings

UNCHANGED = "unchanged"


@pytest.mark.parametrize("api_url, env, inside", [
    (None, {}, None),  # the embedded server: no heartbeats
    ("http://127.0.0.1:4200/api", {}, UNCHANGED),  # a server of its own can act on them
    (None, {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "60"}, UNCHANGED),  # the user's choice stands
    (None, {"PREFECT_RUNNER_HEARTBEAT_FREQUENCY": "90"}, UNCHANGED),  # ... under its legacy name too
])
def test_heartbeats_only_where_a_server_of_its_own_can_act_on_them(monkeypatch, api_url, env, inside):
    for name in HEARTBEAT_FREQUENCY_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with temporary_settings(updates={PREFECT_API_URL: api_url} if api_url else None,
                            restore_defaults=None if api_url else {PREFECT_API_URL}):
        before = get_current_settings().flows.heartbeat_frequency
        assert before is not None  # Prefect's default sends them
        with embedded_run_settings():
            assert get_current_settings().flows.heartbeat_frequency == (before if inside == UNCHANGED else inside)
        assert get_current_settings().flows.heartbeat_frequency == before
