"""The connectors' errors: what stops a push (signature, shape) and what makes a dead letter."""

from __future__ import annotations

from events.errors import LivetallyError


class ConnectorError(LivetallyError):
    """Base of the errors a platform push can raise."""


class SignatureInvalid(ConnectorError):
    """Raised when a push's signature is missing or does not match its body and the secret
    (answered 401; nothing is stored)."""


class MalformedPush(ConnectorError):
    """Raised when a push's body is not the platform's envelope (answered 400, naming the
    problem; nothing is stored)."""


class DeadLetter(ConnectorError):
    """Raised when one message cannot be mapped or attributed (unknown tag, no live session,
    an unreadable amount, the order detail API unreachable): the message is kept with this
    reason and acknowledged, and `livetally connectors replay` retries it later."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class DetailUnavailable(DeadLetter):
    """Raised when a platform's order or refund detail API cannot give an amount livetally
    needs (unreachable, an error answer, no access token configured): never guessed."""

    def __init__(self, detail: str) -> None:
        super().__init__("detail_unavailable", detail)


class DetailDeferred(ConnectorError):
    """Raised when a message needs a platform API's answer while its push is being received:
    the push is acknowledged at once and the message queued for a worker to finish."""
