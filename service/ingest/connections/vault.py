"""The key that encrypts connection secrets at rest (Fernet: AES-128-CBC with an HMAC).

The key comes from settings (`LIVETALLY_SECRET_KEY`) or a key file (`LIVETALLY_SECRET_KEY_FILE`,
default ./livetally.key). The embedded default creates the file, readable only by its owner, on
first start. A key that is lost while secrets are stored is a clear error, never a new key:
a new key would silently make every stored token unreadable.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from events.errors import LivetallyError


class VaultError(LivetallyError):
    """Raised when connection secrets cannot be encrypted or read: no key configured, the key
    file missing while secrets are stored, or a key that does not open them."""


class Vault:
    def __init__(self, key: bytes) -> None:
        self._key = key
        try:
            self._fernet = Fernet(key)
        except ValueError:
            raise VaultError(
                "the secret key is not a Fernet key (32 url-safe base64-encoded bytes); "
                "create one with `livetally connections key`"
            ) from None

    def derive(self, purpose: str) -> bytes:
        """A separate secret for another use (the staff sessions' signing key), derived so
        that neither reveals the other."""
        import hashlib
        import hmac

        return hmac.new(self._key, purpose.encode(), hashlib.sha256).digest()

    def seal(self, plain: bytes) -> str:
        return self._fernet.encrypt(plain).decode("ascii")

    def open(self, sealed: str) -> bytes:
        try:
            return self._fernet.decrypt(sealed.encode("ascii"))
        except InvalidToken:
            raise VaultError(
                "a connection secret cannot be decrypted with this key: the key is not the one "
                "the secrets were stored with (restore the original key file or "
                "LIVETALLY_SECRET_KEY)"
            ) from None


def load_vault(key: str | None, key_file: str | None, create: bool, secrets_stored: bool) -> Vault:
    """The vault from the configured key. `create`: make the key file if it is missing (the
    embedded default's first start), but only while no secret is stored."""
    if key:
        return Vault(key.encode("ascii"))
    if not key_file:
        raise VaultError("no secret key: set LIVETALLY_SECRET_KEY or LIVETALLY_SECRET_KEY_FILE")
    path = Path(key_file)
    if path.exists():
        return Vault(path.read_bytes().strip())
    if secrets_stored:
        raise VaultError(
            f"the secret key file {path} is missing but connection secrets are stored: restore "
            "the file (or set LIVETALLY_SECRET_KEY); a new key could not read them"
        )
    if not create:
        raise VaultError(f"the secret key file {path} does not exist (`livetally up` creates it)")
    new_key = Fernet.generate_key()
    # O_EXCL: two processes starting at once never write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return Vault(path.read_bytes().strip())
    with os.fdopen(fd, "wb") as out:
        out.write(new_key + b"\n")
    return Vault(new_key)
