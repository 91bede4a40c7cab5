"""Ed25519 signing (RFC 8032) through PyNaCl, and the key encodings hotline uses.

Keys are passed in; nothing here generates randomness. A private key is its 32-byte
seed; a public key is 32 bytes. On the wire and on the record both are unpadded
base64url; a key id is the first 16 hex characters of SHA-256 of the public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

import nacl.bindings
import nacl.exceptions
import nacl.signing

from hotline.domain.errors import InvalidInput

SEED_BYTES = 32
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]*$")
PUBLIC_BYTES = 32
SIGNATURE_BYTES = 64


def b64encode(data: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str, *, field: str = "base64") -> bytes:
    """Decode unpadded (or padded) base64url; InvalidInput on anything else."""
    unpadded = text.rstrip("=")
    padding = len(text) - len(unpadded)
    if not _BASE64URL.match(unpadded) or (padding and padding != -len(unpadded) % 4):
        raise InvalidInput(field, "not valid base64url (A-Z a-z 0-9 - _)")
    try:
        data = base64.urlsafe_b64decode(unpadded + "=" * (-len(unpadded) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(field, "not valid base64url") from exc
    if b64encode(data) != unpadded:  # unused trailing bits set: a second spelling
        raise InvalidInput(field, "not valid base64url (non-canonical final character)")
    return data


class SigningKey:
    """An Ed25519 private key held in memory."""

    __slots__ = ("_secret", "_seed", "public")

    def __init__(self, seed: bytes) -> None:
        if len(seed) != SEED_BYTES:
            raise InvalidInput("key", f"an Ed25519 seed is {SEED_BYTES} bytes, got {len(seed)}")
        public, self._secret = nacl.bindings.crypto_sign_seed_keypair(seed)
        self._seed = bytes(seed)
        self.public = PublicKey(public)

    def sign(self, message: bytes) -> bytes:
        """The 64-byte detached signature of ``message``. (libsodium's own call, without
        the wrapper objects of ``nacl.signing``: every event signed pays for them.)"""
        return nacl.bindings.crypto_sign(message, self._secret)[:SIGNATURE_BYTES]

    def seed(self) -> bytes:
        """The 32-byte seed, for storing the key."""
        return self._seed

    def x25519(self) -> bytes:
        """The X25519 private key of the same key pair (RFC 7748), which opens what was
        sealed to this key (see :mod:`hotline.domain.sealing`)."""
        secret: bytes = nacl.bindings.crypto_sign_ed25519_sk_to_curve25519(self._secret)
        return secret


class PublicKey:
    """An Ed25519 public key."""

    __slots__ = ("_verify", "key_id", "raw")

    def __init__(self, raw: bytes) -> None:
        if len(raw) != PUBLIC_BYTES:
            raise InvalidInput(
                "public key", f"an Ed25519 public key is {PUBLIC_BYTES} bytes, got {len(raw)}"
            )
        self.raw = raw
        self.key_id = hashlib.sha256(raw).hexdigest()[:16]
        self._verify = nacl.signing.VerifyKey(raw)

    @classmethod
    def from_text(cls, text: str) -> PublicKey:
        """Parse the unpadded base64url form."""
        return cls(b64decode(text.strip(), field="public key"))

    def text(self) -> str:
        return b64encode(self.raw)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True when ``signature`` is this key's valid signature of ``message``."""
        if len(signature) != SIGNATURE_BYTES:
            return False
        try:
            self._verify.verify(message, signature)
        except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError):
            return False
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __repr__(self) -> str:
        return f"PublicKey({self.key_id})"
