"""Private keys on disk: one file per owner under ``<home>/keys``, readable by the owner only.

A key file holds the unpadded base64url Ed25519 seed and a newline. Files are created
with mode 600 (the folder 700), written to a temporary name, synced and renamed, so a
crash never leaves a half-written key. A key file with looser permissions is refused.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from hotline.domain.crypto import SigningKey, b64decode, b64encode
from hotline.domain.errors import AlreadyExists, KeyUnavailable


class KeyStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, owner: str) -> Path:
        """``US`` -> keys/US.key; ``US/EUCOM-JOC`` -> keys/US/EUCOM-JOC.key."""
        return self.folder.joinpath(*owner.split("/")).with_suffix(".key")

    def has(self, owner: str) -> bool:
        return self.path(owner).exists()

    def create(self, owner: str, seed: bytes) -> SigningKey:
        """Store a new key for ``owner``. Raises AlreadyExists if one is there."""
        key = SigningKey(seed)
        target = self.path(owner)
        if target.exists():
            raise AlreadyExists(f"a private key for {owner} already exists at {target}")
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        for folder in (self.folder, target.parent):
            os.chmod(folder, 0o700)
        temporary = target.with_suffix(".key.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, (b64encode(seed) + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, target)
        return key

    def replace(self, owner: str, seed: bytes, retired_id: str) -> SigningKey:
        """Make a new key for ``owner``; the old file is kept as ``<name>.<key id>.retired``
        (mode 600) rather than destroyed, for the record."""
        current = self.path(owner)
        if current.exists():
            os.replace(current, current.with_suffix(f".{retired_id}.retired"))
        return self.create(owner, seed)

    def discard(self, owner: str) -> None:
        """Remove a key that was made for a registration that did not complete."""
        self.path(owner).unlink(missing_ok=True)

    def load(self, owner: str) -> SigningKey:
        """The private key of ``owner``. Raises KeyUnavailable if absent or exposed."""
        target = self.path(owner)
        try:
            mode = target.stat().st_mode
        except FileNotFoundError:
            raise KeyUnavailable(
                f"this node holds no private key for {owner}",
                hint="events by a principal can only be signed on the node that holds its key",
            ) from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyUnavailable(
                f"the key file {target} can be read by others (mode {stat.S_IMODE(mode):o})",
                hint=f"chmod 600 {target}",
            )
        return SigningKey(b64decode(target.read_text("ascii").strip(), field=str(target)))
