"""The server's SRP math against a real client's (pycognito's, which follows
amazon-cognito-identity-js): the right password proves itself, any other does not."""

from __future__ import annotations

import pytest
from pycognito.aws_srp import AWSSRP

from pipeline.local_cloud.cognito.srp import (
    N,
    ServerExchange,
    SrpError,
    pad_hex,
    parse_public_value,
)

POOL_ID = "us-east-1_abcDEF123"


def _proof(client_password: str, server_password: str, user_id: str = "admin"
           ) -> tuple[ServerExchange, dict[str, str]]:
    client = AWSSRP(user_id, client_password, POOL_ID, "client", client=object())
    big_a = parse_public_value(client.get_auth_params()["SRP_A"])
    exchange = ServerExchange.start("abcDEF123", user_id, server_password, big_a)
    answer = client.process_challenge(
        {"USER_ID_FOR_SRP": user_id, "USERNAME": user_id, **exchange.challenge_parameters()},
        {"USERNAME": user_id})
    return exchange, answer


@pytest.mark.parametrize("attempt", range(8))  # random salts, a and b: padding cases vary
def test_the_right_password_proves_itself(attempt: int) -> None:
    exchange, answer = _proof("Correct-Horse-1", "Correct-Horse-1")
    assert exchange.verifies(answer["PASSWORD_CLAIM_SIGNATURE"], answer["TIMESTAMP"])


def test_a_wrong_password_does_not() -> None:
    exchange, answer = _proof("Correct-Horse-2", "Correct-Horse-1")
    assert not exchange.verifies(answer["PASSWORD_CLAIM_SIGNATURE"], answer["TIMESTAMP"])


def test_the_proof_is_bound_to_its_timestamp_and_user() -> None:
    exchange, answer = _proof("Pw-123456789!", "Pw-123456789!", user_id="tenant-admin-x")
    assert not exchange.verifies(answer["PASSWORD_CLAIM_SIGNATURE"], "Mon Jan 1 00:00:00 UTC 2001")
    assert not exchange.verifies("not base64 at all!", answer["TIMESTAMP"])


def test_padding_is_the_clients() -> None:
    assert pad_hex(0xABC) == "0abc"
    assert pad_hex(0x8F) == "008f"
    assert pad_hex(0x7F) == "7f"


@pytest.mark.parametrize("value", ["0", f"{N:x}", f"{2 * N:x}", "xyz", ""])
def test_a_public_value_srp_refuses(value: str) -> None:
    with pytest.raises(SrpError):
        parse_public_value(value)
