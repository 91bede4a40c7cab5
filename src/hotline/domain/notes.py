"""Signed notes, checkpoints and cosignatures in the C2SP forms, so outside tools read them.

- **Signed note** (c2sp.org/signed-note): a UTF-8 text ending in a newline, a blank
  line, then signature lines ``— <key name> base64(key id || signature)``. A key id is
  ``SHA-256(name || 0x0A || type || public key)[:4]``.
- **Checkpoint** (c2sp.org/tlog-checkpoint): the note text is the origin, the tree
  size in decimal and the root hash in standard base64, one per line, then optional
  extension lines.
- **Signature types** here: ``0x01`` Ed25519 over the note text (the log's own
  signature); ``0x04`` a timestamped Ed25519 cosignature (c2sp.org/tlog-cosignature
  v1: the signed message is ``cosignature/v1``, ``time <seconds>``, then the note
  text; the signature is the 8-byte big-endian time then the 64-byte signature);
  ``0xff`` followed by the identifier ``hotline/ml-dsa-65``: an ML-DSA-65 (FIPS 204)
  signature over the note text, the post-quantum twin of the log's Ed25519 one.

Keys are parameters; nothing here reads a clock, a file or randomness.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass, field
from enum import IntEnum

from hotline.domain.crypto import PublicKey, SigningKey
from hotline.domain.errors import InvalidInput

DASH = "\u2014"
MAX_NOTE_BYTES = 64 * 1024  # room for 16 signatures, post-quantum ones included
MAX_SIGNATURES = 32
COSIGNATURE_HEADER = "cosignature/v1\n"
PQ_IDENTIFIER = b"hotline/ml-dsa-65"


class SignatureType(IntEnum):
    ED25519 = 0x01
    COSIGNATURE = 0x04
    OTHER = 0xFF


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes  # 4 bytes
    signature: bytes

    def line(self) -> str:
        blob = base64.b64encode(self.key_id + self.signature).decode("ascii")
        return f"{DASH} {self.name} {blob}\n"


@dataclass(frozen=True)
class Note:
    text: str  # ends in a newline; the bytes every signature covers
    signatures: tuple[NoteSignature, ...] = field(default=())

    def with_signature(self, signature: NoteSignature) -> Note:
        kept = tuple(s for s in self.signatures if s != signature)
        return Note(self.text, (*kept, signature))

    def render(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def parse_note(data: str | bytes) -> Note:
    """Read a signed note. Raises InvalidInput saying what is wrong with it."""
    if isinstance(data, bytes):
        if len(data) > MAX_NOTE_BYTES:
            raise InvalidInput("note", f"longer than {MAX_NOTE_BYTES} bytes")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput("note", "not UTF-8") from exc
    if len(data.encode("utf-8")) > MAX_NOTE_BYTES:
        raise InvalidInput("note", f"longer than {MAX_NOTE_BYTES} bytes")
    if any(ch < " " and ch != "\n" for ch in data):
        raise InvalidInput("note", "holds a control character other than newline")
    if not data.endswith("\n"):
        raise InvalidInput("note", "does not end in a newline")
    split = data.rfind("\n\n")
    if split < 0:
        raise InvalidInput("note", "has no blank line before its signatures")
    text, lines = data[: split + 1], data[split + 2 :].splitlines()
    if not lines:
        raise InvalidInput("note", "has no signature")
    if len(lines) > MAX_SIGNATURES:
        raise InvalidInput("note", f"has more than {MAX_SIGNATURES} signatures")
    signatures = [parse_signature_line(line) for line in lines]
    return Note(text, tuple(signatures))


def parse_signature_line(line: str) -> NoteSignature:
    """One ``— <name> <base64>`` line. Raises InvalidInput."""
    parts = line.rstrip("\n").split(" ")
    if len(parts) != 3 or parts[0] != DASH or not parts[1] or "+" in parts[1]:
        raise InvalidInput("note", f"malformed signature line {line[:80]!r}")
    try:
        blob = base64.b64decode(parts[2], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("note", f"signature of {parts[1]} is not base64") from exc
    if len(blob) < 5:
        raise InvalidInput("note", f"signature of {parts[1]} is too short")
    return NoteSignature(parts[1], blob[:4], blob[4:])


def b64decode_std(text: str, field: str) -> bytes:
    """Standard base64 (as notes and their keys use). Raises InvalidInput."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(field, "not standard base64") from exc


def key_id(name: str, kind: SignatureType, public: bytes) -> bytes:
    """``SHA-256(name || 0x0A || type || public key)[:4]``; for the post-quantum type the
    identifier ``hotline/ml-dsa-65`` follows the 0xff byte."""
    extra = PQ_IDENTIFIER if kind is SignatureType.OTHER else b""
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + extra + public).digest()[:4]


# -- checkpoints -----------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        root = base64.b64encode(self.root).decode("ascii")
        lines = [self.origin, str(self.size), root, *self.extensions]
        return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """Read a checkpoint's note text. Raises InvalidInput saying what is wrong."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise InvalidInput("checkpoint", "needs an origin, a size and a root hash, one a line")
    origin, size, root, *extensions = lines[:-1]
    if not origin:
        raise InvalidInput("checkpoint", "the origin line is empty")
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise InvalidInput("checkpoint", f"tree size {size[:30]!r} is not a decimal number")
    try:
        root_hash = base64.b64decode(root, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("checkpoint", "the root hash is not base64") from exc
    if len(root_hash) != 32:
        raise InvalidInput("checkpoint", "the root hash is not 32 bytes")
    if any(not line for line in extensions):
        raise InvalidInput("checkpoint", "an extension line is empty")
    return Checkpoint(origin, int(size), root_hash, tuple(extensions))


# -- signers and verifiers -------------------------------------------------------------


def sign_ed25519(note: Note, name: str, key: SigningKey) -> NoteSignature:
    """The log's own signature of the note text."""
    return NoteSignature(
        name,
        key_id(name, SignatureType.ED25519, key.public.raw),
        key.sign(note.text.encode()),
    )


def cosigned_message(text: str, timestamp: int) -> bytes:
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{text}".encode()


def cosign(note: Note, name: str, key: SigningKey, timestamp: int) -> NoteSignature:
    """A tlog-cosignature/v1 of the checkpoint ``note``, made at POSIX time ``timestamp``."""
    if not 0 <= timestamp < 2**63:
        raise InvalidInput("timestamp", "out of range")
    sig = key.sign(cosigned_message(note.text, timestamp))
    return NoteSignature(
        name,
        key_id(name, SignatureType.COSIGNATURE, key.public.raw),
        struct.pack(">Q", timestamp) + sig,
    )


class PqSigningKey:
    """An ML-DSA-65 (FIPS 204) private key, from a 32-byte seed."""

    def __init__(self, seed: bytes) -> None:
        from cryptography.hazmat.primitives.asymmetric.mldsa import MLDSA65PrivateKey

        if len(seed) != 32:
            raise InvalidInput("key", "an ML-DSA seed is 32 bytes")
        self._key = MLDSA65PrivateKey.from_seed_bytes(seed)
        self.public = PqPublicKey(_raw_public(self._key.public_key()))

    def sign(self, message: bytes) -> bytes:
        return bytes(self._key.sign(message))


def _raw_public(key: object) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(
        key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)  # type: ignore[attr-defined]
    )


class PqPublicKey:
    """An ML-DSA-65 public key (1,952 bytes)."""

    SIZE = 1952

    def __init__(self, raw: bytes) -> None:
        if len(raw) != self.SIZE:
            raise InvalidInput("public key", f"an ML-DSA-65 public key is {self.SIZE} bytes")
        self.raw = raw

    def verify(self, message: bytes, signature: bytes) -> bool:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.mldsa import MLDSA65PublicKey

        try:
            MLDSA65PublicKey.from_public_bytes(self.raw).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


def sign_pq(note: Note, name: str, key: PqSigningKey) -> NoteSignature:
    """The log's post-quantum signature of the note text."""
    return NoteSignature(
        name,
        key_id(name, SignatureType.OTHER, key.public.raw),
        key.sign(note.text.encode()),
    )


@dataclass(frozen=True)
class Verifier:
    """A key a reader trusts for notes: its name, type and public key."""

    name: str
    kind: SignatureType
    public: PublicKey | PqPublicKey

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.kind, self.public.raw)

    def check(self, note: Note, signature: NoteSignature) -> int | None:
        """Verify one signature line made by this key: None if it fails, else the
        cosignature's time (0 for the other types)."""
        sig = signature.signature
        if self.kind is SignatureType.COSIGNATURE:
            if len(sig) != 8 + 64:
                return None
            (timestamp,) = struct.unpack(">Q", sig[:8])
            ok = self.public.verify(cosigned_message(note.text, timestamp), sig[8:])
            return timestamp if ok else None
        return 0 if self.public.verify(note.text.encode(), sig) else None


@dataclass(frozen=True)
class Verified:
    name: str
    kind: SignatureType
    time: int  # the cosignature's time; 0 for a log's own signature


def verify_note(note: Note, verifiers: list[Verifier]) -> list[Verified]:
    """The signatures of known keys that verify. Signatures of unknown keys are ignored
    (as the format requires); one of a known key that fails refuses the whole note.

    Raises InvalidInput when a known key's signature fails or no known key signed."""
    known = {(v.name, v.key_id): v for v in verifiers}
    good = []
    for signature in note.signatures:
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            continue
        time = verifier.check(note, signature)
        if time is None:
            raise InvalidInput("note", f"the signature of {signature.name} does not verify")
        good.append(Verified(signature.name, verifier.kind, time))
    if not good:
        raise InvalidInput("note", "no signature by a known key")
    return good
