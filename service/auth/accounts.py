"""Staff accounts: a name, an argon2 password hash, a role (admin, manager, viewer), the person
the account is (for a manager: whose team it may change), and whether it is disabled.

`session_epoch` moves when an account is disabled or its password changes: a login session
carries the epoch it was opened with, so such a change ends every open session at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine

from events.clock import now_micros
from events.errors import LivetallyError
from events.fields import IDENTIFIER_RE

ROLES = ("admin", "manager", "viewer")
NAME_LIMIT = 64
PASSWORD_MIN, PASSWORD_MAX = 10, 1024

metadata = sa.MetaData()

staff_account = sa.Table(
    "staff_account",
    metadata,
    sa.Column("name", sa.String(NAME_LIMIT), primary_key=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("person_id", sa.String(128)),
    sa.Column("disabled_at", sa.BigInteger),
    sa.Column("session_epoch", sa.Integer, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

_hasher = PasswordHasher()
# Verified against when a name is unknown, so a wrong name costs what a wrong password does.
_DUMMY_HASH = _hasher.hash("livetally: no such account")


class AccountError(LivetallyError, ValueError):
    """Raised when an account cannot be created or changed as asked; `field` names the input."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    person_id: str | None
    disabled: bool
    session_epoch: int

    @property
    def session_id(self) -> str:
        """What a login session stores: the name and the epoch it was opened with."""
        return f"{self.session_epoch}:{self.name}"

    def can_write(self) -> bool:
        return self.role in ("admin", "manager") and not self.disabled


def check_password(password: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise AccountError("password", f"must be {PASSWORD_MIN}-{PASSWORD_MAX} characters")


class AccountBook:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, name: str, password: str, role: str, person_id: str | None) -> Account:
        if not (0 < len(name) <= NAME_LIMIT and IDENTIFIER_RE.match(name)):
            raise AccountError("name", "must be 1-64 letters, digits and . _ : @ -")
        if role not in ROLES:
            raise AccountError("role", f"must be one of {', '.join(ROLES)}")
        if role == "manager" and not person_id:
            raise AccountError("person", "a manager's account must name the person it is")
        if person_id is not None and not IDENTIFIER_RE.match(person_id):
            raise AccountError("person", "must be a person id")
        check_password(password)
        now = now_micros()
        with self.engine.begin() as conn:
            if conn.execute(
                sa.select(staff_account.c.name).where(staff_account.c.name == name)
            ).first():
                raise AccountError("name", f"an account {name!r} exists already")
            conn.execute(
                staff_account.insert().values(
                    name=name,
                    password_hash=_hasher.hash(password),
                    role=role,
                    person_id=person_id,
                    disabled_at=None,
                    session_epoch=1,
                    created_at=now,
                    updated_at=now,
                )
            )
        return Account(name, role, person_id, False, 1)

    def get(self, name: str) -> Account | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(staff_account).where(staff_account.c.name == name))
                .mappings()
                .first()
            )
        return None if row is None else _account(dict(row))

    def all(self) -> list[Account]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(staff_account).order_by(staff_account.c.name))
            return [_account(dict(r)) for r in rows.mappings()]

    def verify(self, name: str, password: str) -> Account | None:
        """The account if the name and password match and it is not disabled."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(staff_account).where(staff_account.c.name == name[:200]))
                .mappings()
                .first()
            )
        stored = _DUMMY_HASH if row is None else row["password_hash"]
        try:
            _hasher.verify(stored, password[:PASSWORD_MAX])
        except (VerificationError, InvalidHashError):
            return None
        if row is None or row["disabled_at"] is not None:
            return None
        return _account(dict(row))

    def disable(self, name: str) -> bool:
        return self._update(name, disabled_at=now_micros())

    def set_password(self, name: str, password: str) -> bool:
        check_password(password)
        return self._update(name, password_hash=_hasher.hash(password))

    def _update(self, name: str, **values: object) -> bool:
        with self.engine.begin() as conn:
            return bool(
                conn.execute(
                    staff_account.update()
                    .where(staff_account.c.name == name)
                    .values(
                        **values,
                        session_epoch=staff_account.c.session_epoch + 1,
                        updated_at=now_micros(),
                    )
                ).rowcount
            )


def _account(row: dict[str, object]) -> Account:
    return Account(
        name=str(row["name"]),
        role=str(row["role"]),
        person_id=None if row["person_id"] is None else str(row["person_id"]),
        disabled=row["disabled_at"] is not None,
        session_epoch=int(row["session_epoch"]),  # type: ignore[call-overload]
    )
