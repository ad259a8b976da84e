"""The dispatcher: one message per append (or per group with Redis), claimed streams left out."""

from __future__ import annotations

from typing import Any

from worker.dispatch import IN_PROCESS_MESSAGE_STREAMS, StreamDispatcher
from worker.pending import LocalPending
from worker.projector import GROUP


class SentMessages:
    """Stands in for the dramatiq actor: keeps what was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, ...]] = []

    def send(self, *stream_ids: str) -> Any:
        self.sent.append(stream_ids)


def test_an_append_names_its_unclaimed_streams_in_one_message_in_process() -> None:
    actor, pending = SentMessages(), LocalPending()
    dispatcher = StreamDispatcher(actor, pending)  # type: ignore[arg-type]
    assert pending.claim("session-3")  # a message naming it is queued already
    assert dispatcher.streams_moved([f"session-{n}" for n in range(300)])
    assert len(actor.sent) == 1
    assert actor.sent[0] == tuple(f"session-{n}" for n in range(300) if n != 3)
    assert IN_PROCESS_MESSAGE_STREAMS >= 300


def test_with_redis_an_append_goes_out_a_group_to_a_message() -> None:
    actor, pending = SentMessages(), LocalPending()
    dispatcher = StreamDispatcher(actor, pending, streams_per_message=GROUP)  # type: ignore[arg-type]
    assert dispatcher.streams_moved([f"session-{n}" for n in range(150)])
    assert [len(names) for names in actor.sent] == [64, 64, 22]
    assert [s for names in actor.sent for s in names] == [f"session-{n}" for n in range(150)]
    # every stream is claimed now: the next append moving them sends nothing
    assert dispatcher.streams_moved([f"session-{n}" for n in range(150)])
    assert len(actor.sent) == 3
