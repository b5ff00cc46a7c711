"""Contract v1 topic names (docs/contract.md) and their parsing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

PREFIX = "vigie/v1"
FRAME_FILTER = f"{PREFIX}/wearables/+/frame"
STATUS_FILTER = f"{PREFIX}/wearables/+/status"
ROBOT_STATE_FILTER = f"{PREFIX}/robots/+/state"
SUBSCRIPTIONS = (FRAME_FILTER, STATUS_FILTER, ROBOT_STATE_FILTER)

_ID = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
_TOPIC = re.compile(rf"^{PREFIX}/(wearables|robots)/({_ID})/(frame|status|state)$")


class TopicKind(StrEnum):
    FRAME = "frame"
    STATUS = "status"
    ROBOT_STATE = "robot_state"


@dataclass(frozen=True, slots=True)
class Topic:
    kind: TopicKind
    subject_id: str


def parse(topic: str) -> Topic | None:
    """The kind and device/robot id of a contract topic, or None for anything else."""
    match = _TOPIC.match(topic)
    if match is None:
        return None
    family, subject_id, leaf = match.groups()
    if family == "wearables" and leaf == "frame":
        return Topic(TopicKind.FRAME, subject_id)
    if family == "wearables" and leaf == "status":
        return Topic(TopicKind.STATUS, subject_id)
    if family == "robots" and leaf == "state":
        return Topic(TopicKind.ROBOT_STATE, subject_id)
    return None


def robot_command(robot_id: str) -> str:
    return f"{PREFIX}/robots/{robot_id}/command"


def shared(filter_: str, group: str | None) -> str:
    """MQTT 5 shared subscription (§4.8.2): ``$share/{group}/{filter}`` splits messages across workers."""
    return f"$share/{group}/{filter_}" if group else filter_
