"""API keys as the pages read them: whitespace dropped, odd keys named but never shown."""

from __future__ import annotations

import pytest

from components.models.open import api_key, key_status, open_model
from lifecycle.models import ModelLoadError
from lifecycle.serving import local_server
from lifecycle.settings import Endpoint, Settings, save_settings

KEY = "sk-Zq8vW3xT9pL2mN4bK7"
EP = Endpoint("e", "http://127.0.0.1:9/v1", "m", "MY_KEY")


def test_a_key_pasted_with_a_newline_is_read_without_it(monkeypatch):
    monkeypatch.setenv("MY_KEY", f"  {KEY}\n")
    assert api_key("MY_KEY") == KEY
    assert key_status(EP) == "key from MY_KEY"


def test_a_key_with_a_space_inside_is_named_not_shown(monkeypatch):
    odd = "sk-Zq8vW3x T9pL2mN4bK7"
    monkeypatch.setenv("MY_KEY", odd)
    save_settings(Settings(endpoints=(EP,)))
    with pytest.raises(ModelLoadError, match="^The API key in MY_KEY contains a space") as err:
        open_model("endpoint:e")
    for shown in (str(err.value), key_status(EP)):
        assert "MY_KEY" in shown
        assert all(odd[i : i + 4] not in shown for i in range(len(odd) - 3)), shown


def test_the_managed_servers_endpoint_reads_the_servers_own_key():
    ep = local_server.endpoint_for(8088)
    assert ep.key_name == local_server.KEY_NAME
    assert api_key(ep.key_name) == local_server.server_key() != ""
