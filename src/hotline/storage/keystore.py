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
        target = self.path(owner)
        if target.exists():
            raise AlreadyExists(f"a private key for {owner} already exists at {target}")
        return self._write(target, seed)

    def _write(self, target: Path, seed: bytes) -> SigningKey:
        key = SigningKey(seed)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        for folder in (self.folder, target.parent):
            os.chmod(folder, 0o700)
        temporary = target.with_name(target.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, (b64encode(seed) + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, target)
        _sync_folder(target.parent)
        return key

    def stage(self, owner: str, seed: bytes) -> SigningKey:
        """Write a replacement key beside the current one (``.key.new``); it takes over
        only with :meth:`promote`, after the database has recorded it."""
        return self._write(self.path(owner).with_suffix(".key.new"), seed)

    def promote(self, owner: str, retired_id: str) -> None:
        """Make the staged key current; the old file is kept as ``.<key id>.retired``."""
        current = self.path(owner)
        if current.exists():
            os.replace(current, current.with_suffix(f".{retired_id}.retired"))
        os.replace(current.with_suffix(".key.new"), current)
        _sync_folder(current.parent)

    def drop_staged(self, owner: str) -> None:
        self.path(owner).with_suffix(".key.new").unlink(missing_ok=True)

    def restore(self, owner: str, retired_id: str) -> None:
        """Undo :meth:`promote`: the key retired as ``retired_id`` is current again and
        the one promoted over it is staged once more."""
        current = self.path(owner)
        retired = current.with_suffix(f".{retired_id}.retired")
        if not retired.exists():
            return
        if current.exists():
            os.replace(current, current.with_suffix(".key.new"))
        os.replace(retired, current)
        _sync_folder(current.parent)

    def held(self, owner: str, key_id: str) -> SigningKey | None:
        """The key ``key_id`` of ``owner`` if a staged or retired file beside the current
        one holds it (a rotation under way, or cut short), else None."""
        current = self.path(owner)
        for candidate in (
            current.with_suffix(".key.new"),
            current.with_suffix(f".{key_id}.retired"),
        ):
            if candidate.exists():
                key = self._read(candidate, owner)
                if key.public.key_id == key_id:
                    return key
        return None

    def settle(self, owner: str, current_id: str) -> bool:
        """After a rotation cut short, make the key file hold ``current_id``, the key the
        record holds as current: finish the promotion of a staged key the record took, or
        put back a retired key the record never let go. No key file is removed but a
        staged key the record never took. Returns whether anything was changed."""
        current = self.path(owner)
        key = self.load(owner) if current.exists() else None
        if key is not None and key.public.key_id == current_id:
            self.drop_staged(owner)
            return False
        staged = current.with_suffix(".key.new")
        if staged.exists() and self._read(staged, owner).public.key_id == current_id:
            self.promote(owner, key.public.key_id if key is not None else "lost")
            return True
        if current.with_suffix(f".{current_id}.retired").exists():
            self.restore(owner, current_id)
            self.drop_staged(owner)
            return True
        return False

    def discard(self, owner: str) -> None:
        """Remove a key that was made for a registration that did not complete."""
        self.path(owner).unlink(missing_ok=True)

    def load(self, owner: str) -> SigningKey:
        """The private key of ``owner``. Raises KeyUnavailable if absent or exposed."""
        return self._read(self.path(owner), owner)

    def _read(self, target: Path, owner: str) -> SigningKey:
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


def _sync_folder(folder: Path) -> None:
    """fsync a folder, so that a rename in it survives a power cut."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
