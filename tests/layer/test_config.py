"""Configuration read through typed accessors: a bad value is an error naming the variable."""

from __future__ import annotations

import pytest

from tenant_context.config import Env, PlatformConfig
from tenant_context.errors import ConfigurationError


def test_a_port_is_its_default_when_unset_and_its_value_when_valid() -> None:
    assert PlatformConfig({}).port(Env.GATEWAY_PORT, 4701) == 4701
    assert PlatformConfig({Env.GATEWAY_PORT: " 8080 "}).port(Env.GATEWAY_PORT, 4701) == 8080


@pytest.mark.parametrize("raw", ["abc", "0", "65536", "80.5", "²", "-1", "123456"])
def test_a_port_that_is_no_port_names_its_variable(raw: str) -> None:
    with pytest.raises(ConfigurationError, match=r"GATEWAY_PORT must be a TCP port"):
        PlatformConfig({Env.GATEWAY_PORT: raw}).port(Env.GATEWAY_PORT, 4701)


def test_every_member_is_named_what_it_is_called() -> None:
    assert all(variable.value == variable.name for variable in Env)
