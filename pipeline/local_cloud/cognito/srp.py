"""The server's half of Cognito's SRP-6a exchange (``USER_SRP_AUTH``), exactly as Cognito's
clients compute theirs (amazon-cognito-identity-js ``AuthenticationHelper``, pycognito
``aws_srp``): the 3072-bit group of RFC 5054 with g = 2, k = H(N | g), hex padded as those
clients pad it, x = H(salt | H(poolName | userId | ":" | password)) and a proof that is an
HMAC-SHA256 over the pool name, the user id, the secret block and the client's timestamp,
keyed with HKDF(S, u).

The emulator answers ``USER_SRP_AUTH`` without checking any proof; here a wrong password yields
a wrong proof, which the flows refuse as Cognito does. The server knows the password (the local
store holds it), so it derives the verifier per exchange from a fresh salt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass

N_HEX = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E"
    "3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF"
    "5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D3"
    "9A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08"
    "CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF69558171839"
    "95497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DB"
    "EF0A8AEA71575D060C7DB3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA"
    "06D98A0864D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E208E24FA074E5AB31"
    "43DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF")
N = int(N_HEX, 16)
G = 2
_INFO = b"Caldera Derived Key\x01"  # HKDF's info and counter byte, as the clients use them


class SrpError(ValueError):
    """A client value the exchange cannot use (A = 0 mod N, not hex, u = 0)."""


def pad_hex(value: int) -> str:
    """The clients' ``padHex``: even length, and a leading 00 when the top bit is set (so a
    positive number never reads as negative)."""
    text = f"{value:x}"
    if len(text) % 2:
        return "0" + text
    return "00" + text if text[0] in "89abcdef" else text


def hex_hash(hex_string: str) -> str:
    return hashlib.sha256(bytes.fromhex(hex_string)).hexdigest()


K = int(hex_hash(pad_hex(N) + pad_hex(G)), 16)


def hkdf(ikm: bytes, salt: bytes) -> bytes:
    """HKDF-SHA256, one block, 16 bytes: the clients' ``computehkdf``."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    return hmac.new(prk, _INFO, hashlib.sha256).digest()[:16]


def private_x(pool_name: str, user_id: str, password: str, salt: int) -> int:
    inner = hashlib.sha256(f"{pool_name}{user_id}:{password}".encode()).hexdigest()
    return int(hex_hash(pad_hex(salt) + inner), 16)


def scrambler(big_a: int, big_b: int) -> int:
    """u = H(A | B)."""
    return int(hex_hash(pad_hex(big_a) + pad_hex(big_b)), 16)


def parse_public_value(hex_value: str) -> int:
    """The client's A, refused where SRP-6a refuses it (A mod N = 0)."""
    try:
        big_a = int(hex_value, 16)
    except ValueError as error:
        raise SrpError("SRP_A is not a hexadecimal number") from error
    if big_a % N == 0:
        raise SrpError("SRP_A is not a valid public value")
    return big_a


@dataclass(frozen=True)
class ServerExchange:
    """One ``PASSWORD_VERIFIER`` challenge: what the server sent and what it needs to check
    the proof that comes back."""

    pool_name: str  # the pool id without its region: "us-east-1_abc" -> "abc"
    user_id: str  # USER_ID_FOR_SRP
    salt: int
    big_a: int
    big_b: int
    small_b: int
    verifier: int
    secret_block: bytes

    @classmethod
    def start(cls, pool_name: str, user_id: str, password: str, big_a: int
              ) -> ServerExchange:
        salt = int.from_bytes(secrets.token_bytes(16), "big") or 1
        verifier = pow(G, private_x(pool_name, user_id, password, salt), N)
        while True:
            small_b = int.from_bytes(secrets.token_bytes(128), "big") % N
            big_b = (K * verifier + pow(G, small_b, N)) % N
            if big_b and scrambler(big_a, big_b):
                break
        return cls(pool_name, user_id, salt, big_a, big_b, small_b, verifier,
                   secrets.token_bytes(64))

    @property
    def secret_block_text(self) -> str:
        return base64.b64encode(self.secret_block).decode()

    def challenge_parameters(self) -> dict[str, str]:
        """Hex as the clients parse it (they re-pad every value themselves)."""
        return {"SALT": pad_hex(self.salt), "SRP_B": f"{self.big_b:x}",
                "SECRET_BLOCK": self.secret_block_text}

    def signature(self, timestamp: str) -> bytes:
        """The proof a client that knows the password sends for this timestamp."""
        u = scrambler(self.big_a, self.big_b)
        shared = pow(self.big_a * pow(self.verifier, u, N) % N, self.small_b, N)
        key = hkdf(bytes.fromhex(pad_hex(shared)), bytes.fromhex(pad_hex(u)))
        message = (self.pool_name.encode() + self.user_id.encode() + self.secret_block
                   + timestamp.encode())
        return hmac.new(key, message, hashlib.sha256).digest()

    def verifies(self, signature_text: str, timestamp: str) -> bool:
        """Whether the client's ``PASSWORD_CLAIM_SIGNATURE`` proves the password."""
        try:
            claimed = base64.b64decode(signature_text, validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(claimed, self.signature(timestamp))
