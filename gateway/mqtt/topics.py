"""Contract v1 topic names (docs/contract.md) and their parsing."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from enum import StrEnum

PREFIX = "vigie/v1"
FRAME_FILTER = f"{PREFIX}/wearables/+/frame"
STATUS_FILTER = f"{PREFIX}/wearables/+/status"
ROBOT_STATE_FILTER = f"{PREFIX}/robots/+/state"
SUBSCRIPTIONS = (FRAME_FILTER, STATUS_FILTER, ROBOT_STATE_FILTER)
# Between ingest workers only (never devices): a frame or robot state handed to the worker that owns its id.
PARTITIONS_PREFIX = "vigie/internal/v1/partitions"

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


def owner(subject_id: str, partitions: int) -> int:
    """The ingest partition that owns a device or robot id: the same in every process and every release.

    CRC-32 rather than ``hash()``, which is salted per process (PYTHONHASHSEED): every worker must agree.
    """
    return zlib.crc32(subject_id.encode()) % partitions


def to_partition(partition: int, topic: str) -> str:
    """The internal topic that carries a contract message ``topic`` to the worker owning ``partition``."""
    return f"{PARTITIONS_PREFIX}/{partition}/{topic}"


def partition_filter(partition: int) -> str:
    return f"{PARTITIONS_PREFIX}/{partition}/#"


def from_partition(topic: str) -> str | None:
    """The contract topic inside an internal partition topic, or None if ``topic`` is not one."""
    head = PARTITIONS_PREFIX + "/"
    if not topic.startswith(head):
        return None
    _, _, original = topic[len(head):].partition("/")
    return original or None
