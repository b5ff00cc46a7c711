"""Which raw IMU seconds to keep.

Storing 50-200 Hz IMU for every agent-second costs tens of GB a day at city scale and is rarely read.
What investigators need is the signal *around* an event (a fall, an SOS): a few seconds before, some
after. This policy holds a short per-device look-back buffer and releases it when an event occurs.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")


class ImuKeep(StrEnum):
    ALL = "all"
    EVENTS = "events"
    NONE = "none"


@dataclass
class ImuRetention(Generic[T]):
    """Per-device look-back buffer of ``pre_s`` seconds; keeps everything until ``post_s`` after an event.

    ``offer`` returns the items to persist now (possibly including buffered earlier seconds).
    """

    mode: ImuKeep = ImuKeep.EVENTS
    pre_s: float = 10.0
    post_s: float = 30.0
    _buffers: dict[str, deque[tuple[datetime, T]]] = field(default_factory=dict)
    _keep_until: dict[str, datetime] = field(default_factory=dict)

    def offer(self, device_id: str, ts: datetime, item: T, event: bool) -> list[T]:
        if self.mode is ImuKeep.ALL:
            return [item]
        if self.mode is ImuKeep.NONE:
            return []
        buffer = self._buffers.setdefault(device_id, deque())
        if event:
            self._keep_until[device_id] = ts + timedelta(seconds=self.post_s)
            released = [held for held_ts, held in buffer if held_ts >= ts - timedelta(seconds=self.pre_s)]
            buffer.clear()
            return [*released, item]
        until = self._keep_until.get(device_id)
        if until is not None and ts <= until:
            return [item]
        buffer.append((ts, item))
        horizon = ts - timedelta(seconds=self.pre_s)
        while buffer and buffer[0][0] < horizon:
            buffer.popleft()
        return []

    def forget(self, device_id: str) -> None:
        self._buffers.pop(device_id, None)
        self._keep_until.pop(device_id, None)
