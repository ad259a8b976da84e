"""The `connection` table: one row per authorised shop or account, its secrets sealed by the
vault; and `oauth_request`, the pending authorisations (their `state` values, hashed).

Only this module reads or writes the rows; everything else gets `Connection` values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from events.clock import now_micros
from service.ingest.connections.vault import Vault

metadata = sa.MetaData()

connection_table = sa.Table(
    "connection",
    metadata,
    sa.Column("connection_id", sa.String(160), primary_key=True),  # platform:account_id
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("account_id", sa.String(128), nullable=False),  # the shop or account id
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("app_key", sa.String(128)),  # None: the platform's app from settings
    sa.Column("sealed", sa.Text, nullable=False),  # the secrets, encrypted (vault)
    sa.Column("access_expires_at", sa.BigInteger),  # µs
    sa.Column("refresh_expires_at", sa.BigInteger),  # µs
    sa.Column("state", sa.String(16), nullable=False),  # ok | failed
    sa.Column("state_reason", sa.Text),
    sa.Column("synced_until", sa.BigInteger),  # µs: the end of the last window pulled whole
    sa.Column("sync_attempted_at", sa.BigInteger),
    sa.Column("sync_error", sa.Text),
    sa.Column("sync_orders", sa.Integer, nullable=False, server_default="0"),
    # The live-room poller (service/ingest/pollers): its last reading, its failures, when next.
    sa.Column("polled_at", sa.BigInteger),
    sa.Column("poll_error", sa.Text),
    sa.Column("poll_failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_poll_at", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("lease_owner", sa.String(128)),
    sa.Column("lease_until", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("platform", "account_id", name="uq_connection_platform_account"),
)

# Which person hosts a room: the key is the platform's room id, or the account (a Douyin
# aweme id, a TikTok username, a WeChat appid) whose rooms a poller sees; `livetally rooms map`.
room_host = sa.Table(
    "room_host",
    metadata,
    sa.Column("room_key", sa.String(128), primary_key=True),
    sa.Column("person_id", sa.String(128), nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

oauth_request = sa.Table(
    "oauth_request",
    metadata,
    sa.Column("state_hash", sa.String(64), primary_key=True),
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("browser_hash", sa.String(64), nullable=False),  # the admin's browser binding
    sa.Column("expires_at", sa.BigInteger, nullable=False),
)

# A refresh token this close to its end needs the shop to authorise again: `expiring`.
EXPIRING_WITHIN_US = 3 * 86_400_000_000


@dataclass(frozen=True)
class Connection:
    connection_id: str
    platform: str
    account_id: str
    name: str
    app_key: str | None = None
    secrets: Mapping[str, str] = field(default_factory=dict)  # never logged or shown
    access_expires_at: int | None = None
    refresh_expires_at: int | None = None
    state: str = "ok"
    state_reason: str | None = None
    synced_until: int | None = None
    sync_attempted_at: int | None = None
    sync_error: str | None = None
    sync_orders: int = 0
    polled_at: int | None = None
    poll_error: str | None = None
    poll_failures: int = 0
    next_poll_at: int = 0
    created_at: int = 0
    updated_at: int = 0

    @property
    def access_token(self) -> str | None:
        return self.secrets.get("access_token")

    def described(self, now: int, expiring_within: int = EXPIRING_WITHIN_US) -> str:
        """`ok`, `expiring` or `failed: reason`, as `connections list` and /health say it."""
        if self.state == "failed":
            return f"failed: {self.state_reason or 'unknown'}"
        if self.refresh_expires_at is not None and self.refresh_expires_at - now < expiring_within:
            return "expiring"
        if (
            self.access_expires_at is not None
            and self.access_expires_at <= now
            and not self.secrets.get("refresh_token")
        ):
            return "expiring"
        return "ok"

    def public(self, now: int, expiring_within: int = EXPIRING_WITHIN_US) -> dict[str, Any]:
        """What may be shown: never a secret, only which ones are set."""
        return {
            "connection_id": self.connection_id,
            "platform": self.platform,
            "account_id": self.account_id,
            "name": self.name,
            "app_key": self.app_key,
            "secrets_set": sorted(k for k, v in self.secrets.items() if v),
            "access_expires_at": self.access_expires_at,
            "refresh_expires_at": self.refresh_expires_at,
            "state": self.described(now, expiring_within),
            "synced_until": self.synced_until,
            "sync_attempted_at": self.sync_attempted_at,
            "sync_error": self.sync_error,
            "sync_orders": self.sync_orders,
            "polled_at": self.polled_at,
            "poll_error": self.poll_error,
        }


def connection_id_of(platform: str, account_id: str) -> str:
    return f"{platform}:{account_id}"


class ConnectionBook:
    """The connections, their secrets opened with the vault on the way out. The vault is
    opened on first use (`open_vault`), so a process without connections needs no key."""

    def __init__(self, engine: Engine, open_vault: Callable[[bool], Vault]) -> None:
        self.engine = engine
        self._open_vault = open_vault
        self._vault: Vault | None = None

    @property
    def vault(self) -> Vault:
        if self._vault is None:
            self._vault = self._open_vault(self.secrets_stored())
        return self._vault

    # -- reads ---------------------------------------------------------------------------

    def all(self, platform: str | None = None) -> list[Connection]:
        query = sa.select(connection_table).order_by(connection_table.c.connection_id)
        if platform is not None:
            query = query.where(connection_table.c.platform == platform)
        with self.engine.connect() as conn:
            return [self._loaded(dict(r)) for r in conn.execute(query).mappings()]

    def get(self, connection_id: str) -> Connection | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    sa.select(connection_table).where(
                        connection_table.c.connection_id == connection_id
                    )
                )
                .mappings()
                .first()
            )
        return None if row is None else self._loaded(dict(row))

    def of_account(self, platform: str, account_id: str) -> Connection | None:
        return self.get(connection_id_of(platform, account_id))

    def __iter__(self) -> Iterator[Connection]:
        return iter(self.all())

    # -- writes --------------------------------------------------------------------------

    def save(self, connection: Connection) -> Connection:
        """Insert or replace (by platform and account id)."""
        now = now_micros()
        saved = replace(
            connection,
            connection_id=connection_id_of(connection.platform, connection.account_id),
            created_at=connection.created_at or now,
            updated_at=now,
        )
        row = self._row(saved)
        with self.engine.begin() as conn:
            updated = conn.execute(
                connection_table.update()
                .where(connection_table.c.connection_id == saved.connection_id)
                .values({k: v for k, v in row.items() if k not in ("lease_owner", "lease_until")})
            ).rowcount
            if not updated:
                conn.execute(connection_table.insert().values(row))
        return saved

    def update_tokens(
        self,
        connection: Connection,
        secrets: Mapping[str, str],
        access_expires_at: int | None,
        refresh_expires_at: int | None,
    ) -> Connection:
        merged = {**connection.secrets, **{k: v for k, v in secrets.items() if v}}
        return self.save(
            replace(
                connection,
                secrets=merged,
                access_expires_at=access_expires_at,
                refresh_expires_at=refresh_expires_at,
                state="ok",
                state_reason=None,
            )
        )

    def mark(self, connection_id: str, state: str, reason: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                connection_table.update()
                .where(connection_table.c.connection_id == connection_id)
                .values(state=state, state_reason=reason, updated_at=now_micros())
            )

    def record_sync(
        self, connection_id: str, until: int | None, error: str | None, orders: int
    ) -> None:
        values: dict[str, Any] = {"sync_attempted_at": now_micros(), "sync_error": error}
        if until is not None:
            values["synced_until"] = until
            values["sync_orders"] = orders
        with self.engine.begin() as conn:
            conn.execute(
                connection_table.update()
                .where(connection_table.c.connection_id == connection_id)
                .values(values)
            )

    def record_poll(
        self, connection_id: str, at: int, error: str | None, failures: int, next_at: int
    ) -> None:
        values: dict[str, Any] = {
            "poll_error": error,
            "poll_failures": failures,
            "next_poll_at": next_at,
        }
        if error is None:
            values["polled_at"] = at
        with self.engine.begin() as conn:
            conn.execute(
                connection_table.update()
                .where(connection_table.c.connection_id == connection_id)
                .values(values)
            )

    def map_room(self, room_key: str, person_id: str) -> None:
        from events.upsert import upsert

        with self.engine.begin() as conn:
            upsert(
                conn,
                room_host,
                [{"room_key": room_key, "person_id": person_id, "updated_at": now_micros()}],
                ("room_key",),
            )

    def unmap_room(self, room_key: str) -> bool:
        with self.engine.begin() as conn:
            return bool(
                conn.execute(room_host.delete().where(room_host.c.room_key == room_key)).rowcount
            )

    def rooms(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            return {
                str(k): str(v)
                for k, v in conn.execute(sa.select(room_host.c.room_key, room_host.c.person_id))
            }

    def host_of(self, *keys: str) -> str | None:
        """The person mapped to the first of these keys that has one."""
        wanted = [k for k in keys if k]
        if not wanted:
            return None
        with self.engine.connect() as conn:
            found = dict(
                conn.execute(
                    sa.select(room_host.c.room_key, room_host.c.person_id).where(
                        room_host.c.room_key.in_(wanted)
                    )
                ).all()
            )
        for key in wanted:
            if key in found:
                return str(found[key])
        return None

    def remove(self, connection_id: str) -> bool:
        with self.engine.begin() as conn:
            return bool(
                conn.execute(
                    connection_table.delete().where(
                        connection_table.c.connection_id == connection_id
                    )
                ).rowcount
            )

    def take_lease(self, connection_id: str, owner: str, seconds: float) -> bool:
        """One run per connection across every process: a conditional UPDATE wins or not."""
        now = now_micros()
        with self.engine.begin() as conn:
            return bool(
                conn.execute(
                    connection_table.update()
                    .where(
                        connection_table.c.connection_id == connection_id,
                        connection_table.c.lease_until < now,
                    )
                    .values(lease_owner=owner[:128], lease_until=now + int(seconds * 1e6))
                ).rowcount
            )

    def release_lease(self, connection_id: str, owner: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                connection_table.update()
                .where(
                    connection_table.c.connection_id == connection_id,
                    connection_table.c.lease_owner == owner[:128],
                )
                .values(lease_until=0, lease_owner=None)
            )

    # -- OAuth requests ------------------------------------------------------------------

    def open_request(
        self, state: str, platform: str, name: str, browser: str, seconds: int
    ) -> None:
        now = now_micros()
        with self.engine.begin() as conn:
            conn.execute(oauth_request.delete().where(oauth_request.c.expires_at < now))
            conn.execute(
                oauth_request.insert().values(
                    state_hash=_digest(state),
                    platform=platform,
                    name=name,
                    browser_hash=_digest(browser),
                    expires_at=now + seconds * 1_000_000,
                )
            )

    def close_request(self, state: str, platform: str, browser: str) -> str | None:
        """The connection name the request was for, once: a state is used up when checked.
        None when unknown, expired, for another platform or another browser."""
        with self.engine.begin() as conn:
            row = (
                conn.execute(
                    sa.select(oauth_request).where(oauth_request.c.state_hash == _digest(state))
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            conn.execute(
                oauth_request.delete().where(oauth_request.c.state_hash == row["state_hash"])
            )
        if (
            row["expires_at"] < now_micros()
            or row["platform"] != platform
            or row["browser_hash"] != _digest(browser)
        ):
            return None
        return str(row["name"])

    # -- rows ----------------------------------------------------------------------------

    def secrets_stored(self) -> bool:
        with self.engine.connect() as conn:
            return bool(
                conn.execute(sa.select(sa.func.count()).select_from(connection_table)).scalar()
            )

    def _row(self, connection: Connection) -> dict[str, Any]:
        return {
            "connection_id": connection.connection_id,
            "platform": connection.platform,
            "account_id": connection.account_id,
            "name": connection.name,
            "app_key": connection.app_key,
            "sealed": self.vault.seal(orjson.dumps(dict(connection.secrets))),
            "access_expires_at": connection.access_expires_at,
            "refresh_expires_at": connection.refresh_expires_at,
            "state": connection.state,
            "state_reason": connection.state_reason,
            "synced_until": connection.synced_until,
            "sync_attempted_at": connection.sync_attempted_at,
            "sync_error": connection.sync_error,
            "sync_orders": connection.sync_orders,
            "created_at": connection.created_at,
            "updated_at": connection.updated_at,
        }

    def _loaded(self, row: dict[str, Any]) -> Connection:
        secrets = orjson.loads(self.vault.open(row.pop("sealed")))
        row.pop("lease_owner", None)
        row.pop("lease_until", None)
        return Connection(secrets=secrets, **row)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
