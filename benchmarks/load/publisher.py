"""The load generator: a few OS processes, each one MQTT connection (QoS 1) for a slice of the fleet.

The connection is :mod:`benchmarks.load.rawmqtt` by default (pre-encoded packets, batched sends: ~4 µs of CPU
per 2.5 KB frame where paho costs ~200 µs, see that module for the figures); ``--publisher paho`` keeps paho
for comparison.

Paced mode sends every wearable's frame once a second and every robot's state ten times a second, spread
evenly over the second across the whole fleet (wearable ``i`` at ``(i + 0.5) / N`` of the second), the frame
of second ``t`` during second ``t + 1`` (a device can only send a second once it is over). Each process
records how far behind its schedule it fell: a generator that cannot keep up makes the run invalid for that
N, and the report says so. Burst mode publishes pre-dated frames as fast as the broker acknowledges them
(to fill a stopped consumer's queue for the drain measurement).

A probe is an ordinary frame with the SOS button pressed, of a device pressing it for the first time in the
run (so each probe raises a new alert); its publish time goes back to the parent on a queue, and it is sent
at once (not left in a batch).
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import queue
import time
from dataclasses import dataclass, field
from multiprocessing.sharedctypes import SynchronizedArray
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from benchmarks.load import payloads, rawmqtt

MAX_INFLIGHT = 2000  # paho's window; the raw client uses the broker's Receive Maximum
PUBLISHERS = ("raw", "paho")
_DEFAULT = {"publisher": "raw"}  # what ``use_publisher`` sets in the parent; each Job carries it to its process
SLOTS = 3  # per process in the live counters: frames published, robot states published, PUBACKs received


@dataclass(frozen=True)
class Job:
    index: int
    host: str
    port: int
    username: str
    password: str
    wearables: list[int]
    robots: list[int]
    total_wearables: int
    total_robots: int
    duration_s: int = 0
    # device index -> second of the run (0-based) whose frame carries the SOS
    probes: dict[int, int] = field(default_factory=dict)
    # burst mode: the Unix seconds whose frames every wearable of the slice publishes, as fast as possible
    burst_seconds: list[int] = field(default_factory=list)
    robot_hz: int = 10
    publisher: str = field(default_factory=lambda: _DEFAULT["publisher"])  # "raw" or "paho"


def use_publisher(kind: str) -> None:
    """The MQTT client of the jobs built from now on in this process (``vigie bench load --publisher``)."""
    if kind not in PUBLISHERS:
        raise ValueError(f"unknown publisher {kind!r}: one of {', '.join(PUBLISHERS)}")
    _DEFAULT["publisher"] = kind


@dataclass
class Outcome:
    index: int
    frames: int = 0
    robot_states: int = 0
    acked: int = 0
    elapsed_s: float = 0.0
    behind_max_s: float = 0.0
    behind_p99_s: float = 0.0
    cpu_s: float = 0.0
    failed: int = 0  # PUBACKs with a failure reason code (MQTT 5 §3.4.2.1), e.g. 0x87 Not authorized
    error: str | None = None


class Link(Protocol):
    """One publisher process's MQTT connection, whichever client: messages are built from the device's
    pre-generated template, sent (``flush``) in batches, and counted as their PUBACKs come back."""

    @property
    def acked(self) -> int: ...
    @property
    def failed(self) -> int: ...
    def wearable(self, i: int, seq_digits: bytes, ts: bytes) -> None: ...
    def robot(self, r: int, seq_digits: bytes, ts: bytes) -> None: ...
    def payload(self, topic: str, payload: bytes) -> None: ...
    def flush(self) -> None: ...
    def throttle(self) -> None: ...
    def wait_acked(self, timeout_s: float) -> bool: ...
    def failure_summary(self) -> str | None: ...
    def close(self) -> None: ...


class RawLink:
    """:class:`rawmqtt.Publisher` with one pre-encoded packet per device."""

    def __init__(self, job: Job, counters: Any) -> None:
        self.client = rawmqtt.Publisher(job.host, job.port, f"bench-pub-{job.index}-{os.getpid()}", job.username,
                                        job.password)  # fmt: skip
        self._counters, self._slot = counters, job.index * SLOTS + 2
        c = self.client
        self._wear = {
            i: c.template(
                payloads.frame_topic(payloads.device_id(i)), payloads.wearable_template(payloads.device_id(i), i)
            )
            for i in job.wearables
        }
        self._bots = {r: c.template(payloads.robot_topic(payloads.robot_id(r)),
                                    payloads.robot_template(payloads.robot_id(r), r)) for r in job.robots}  # fmt: skip

    @property
    def acked(self) -> int:
        return self.client.acked

    @property
    def failed(self) -> int:
        return self.client.failed

    def wearable(self, i: int, seq_digits: bytes, ts: bytes) -> None:
        self.client.publish_template(self._wear[i], seq_digits, ts)

    def robot(self, r: int, seq_digits: bytes, ts: bytes) -> None:
        self.client.publish_template(self._bots[r], seq_digits, ts)

    def payload(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload)

    def flush(self) -> None:
        self.client.flush()
        self._counters[self._slot] = self.client.acked

    def throttle(self) -> None:  # the broker's Receive Maximum already bounds what is in flight
        pass

    def wait_acked(self, timeout_s: float) -> bool:
        try:
            return self.client.wait_acked(timeout_s)
        finally:
            self._counters[self._slot] = self.client.acked

    def failure_summary(self) -> str | None:
        return self.client.failure_summary()

    def close(self) -> None:
        self.client.close()


class PahoLink:
    """paho (MQTT 3.1.1, its own network thread), as the generator was first built: ``--publisher paho``."""

    def __init__(self, job: Job, counters: Any) -> None:
        self.acked = self.failed = self.sent = 0
        self._failures: dict[str, int] = {}
        client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                             client_id=f"bench-pub-{job.index}-{os.getpid()}", protocol=mqtt.MQTTv311)  # fmt: skip
        client.username_pw_set(job.username, job.password)
        client.max_inflight_messages_set(MAX_INFLIGHT)
        client.max_queued_messages_set(0)
        slot = job.index * SLOTS + 2

        def on_publish(_c: mqtt.Client, _u: Any, _mid: int, reason: Any, _p: Any) -> None:
            self.acked += 1
            counters[slot] += 1
            if getattr(reason, "is_failure", False):
                self.failed += 1
                self._failures[str(reason)] = self._failures.get(str(reason), 0) + 1

        client.on_publish = on_publish
        client.connect(job.host, job.port, keepalive=60)
        client.loop_start()
        deadline = time.monotonic() + 10
        while not client.is_connected():
            if time.monotonic() > deadline:
                raise RuntimeError(f"publisher {job.index} could not connect to {job.host}:{job.port}")
            time.sleep(0.01)
        self.client = client
        self._wear = {
            i: (payloads.frame_topic(payloads.device_id(i)), payloads.wearable_template(payloads.device_id(i), i))
            for i in job.wearables
        }
        self._bots = {r: (payloads.robot_topic(payloads.robot_id(r)),
                          payloads.robot_template(payloads.robot_id(r), r)) for r in job.robots}  # fmt: skip

    def _send(self, topic: str, t: payloads.Template, seq_digits: bytes, ts: bytes) -> None:
        self.payload(topic, b"".join((t.before_seq, seq_digits, t.between, ts, t.after_ts)))

    def wearable(self, i: int, seq_digits: bytes, ts: bytes) -> None:
        self._send(*self._wear[i], seq_digits, ts)

    def robot(self, r: int, seq_digits: bytes, ts: bytes) -> None:
        self._send(*self._bots[r], seq_digits, ts)

    def payload(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1)
        self.sent += 1

    def flush(self) -> None:  # paho's thread sends as it goes
        pass

    def throttle(self) -> None:
        while self.sent - self.acked > 4 * MAX_INFLIGHT:  # bounded memory in paho's queue
            time.sleep(0.001)

    def wait_acked(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while self.acked < self.sent and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.acked >= self.sent

    def failure_summary(self) -> str | None:
        if not self.failed:
            return None
        return f"{self.failed} PUBACKs refused: " + ", ".join(f"{k} ×{n}" for k, n in sorted(self._failures.items()))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def connect(job: Job, counters: Any) -> Link:
    return RawLink(job, counters) if job.publisher == "raw" else PahoLink(job, counters)


def _schedule(job: Job) -> list[tuple[float, int, int, int]]:
    """(offset in the second, kind 0 wearable / 1 robot, device index, tenth of the second), sorted."""
    events = [((i + 0.5) / job.total_wearables, 0, i, 0) for i in job.wearables]
    for r in job.robots:
        for k in range(job.robot_hz):
            events.append(((k + (r + 0.5) / max(1, job.total_robots)) / job.robot_hz, 1, r, k))
    events.sort()
    return events


def _paced(job: Job, link: Link, counters: Any, start_at: float, probe_q: Any, out: Outcome, stop: Any) -> None:
    events = _schedule(job)
    behind: list[float] = []
    base_second = math.floor(start_at)
    pub_frames, pub_robots = job.index * SLOTS, job.index * SLOTS + 1
    for s in range(job.duration_s):
        if stop.is_set():  # the run was called off (the gateway fell too far behind)
            break
        frame_second = base_second + s - 1
        ts = payloads.rfc3339_ms(frame_second).encode()
        seq_digits = str(payloads.wearable_seq(frame_second)).encode()
        start = base_second + s
        worst = 0.0
        for offset, kind, i, k in events:
            due = start + offset
            now = time.time()
            if due - now > 0.002:
                link.flush()  # what is due so far leaves now, in one batch; then wait for the next
                now = time.time()
                if due > now:
                    time.sleep(due - now)
            else:
                worst = max(worst, now - due)
            if kind == 0:
                if job.probes.get(i) == s:
                    payload = payloads.sos_frame(payloads.device_id(i), i, frame_second)
                    probe_q.put((payloads.device_id(i), time.time()))
                    link.payload(payloads.frame_topic(payloads.device_id(i)), payload)
                    link.flush()
                else:
                    link.wearable(i, seq_digits, ts)
                counters[pub_frames] += 1
            else:
                tenth = start * job.robot_hz + k
                ts_r = payloads.rfc3339_ms(tenth / job.robot_hz).encode()
                link.robot(i, str(payloads.robot_seq(tenth)).encode(), ts_r)
                counters[pub_robots] += 1
        link.flush()
        behind.append(worst)
    out.behind_max_s = max(behind, default=0.0)
    ranked = sorted(behind)
    out.behind_p99_s = ranked[min(len(ranked) - 1, int(0.99 * len(ranked)))] if ranked else 0.0


def _burst(job: Job, link: Link, counters: Any) -> None:
    pub = job.index * SLOTS
    for second in job.burst_seconds:
        ts, seq_digits = payloads.rfc3339_ms(second).encode(), str(payloads.wearable_seq(second)).encode()
        for i in job.wearables:
            link.throttle()
            link.wearable(i, seq_digits, ts)
            counters[pub] += 1
        link.flush()


def run_job(job: Job, counters: Any, ready_q: Any, go: Any, start_at: Any, probe_q: Any, result_q: Any,
            stop: Any) -> None:  # fmt: skip
    """Process entry point: connect, say ready, wait for the common start, publish, wait for every PUBACK."""
    out = Outcome(job.index)
    link: Link | None = None
    try:
        link = connect(job, counters)
        ready_q.put(job.index)
        while not go.wait(1.0):
            link.flush()  # nothing to send yet: keeps the connection alive (PINGREQ) while the others connect
        began = time.time()
        if job.burst_seconds:
            _burst(job, link, counters)
        else:
            _paced(job, link, counters, start_at.value, probe_q, out, stop)
        link.wait_acked(120)
        out.elapsed_s = time.time() - began
        out.error = link.failure_summary()
    except Exception as exc:  # reported to the parent, which marks the run invalid
        out.error = f"{type(exc).__name__}: {exc}"
        ready_q.put(job.index)
    finally:
        out.frames = counters[job.index * SLOTS]
        out.robot_states = counters[job.index * SLOTS + 1]
        out.acked = link.acked if link is not None else 0
        out.failed = link.failed if link is not None else 0
        t = os.times()
        out.cpu_s = t.user + t.system
        if link is not None:
            link.close()
        result_q.put(out)


class Fleet:
    """The publisher processes of one run: start them, release them together, collect their outcomes."""

    def __init__(self, jobs: list[Job]) -> None:
        ctx = mp.get_context("spawn")
        self.jobs = jobs
        self.counters: SynchronizedArray[int] = ctx.Array("q", SLOTS * len(jobs), lock=False)
        self._ready, self._probes, self._results = ctx.Queue(), ctx.Queue(), ctx.Queue()
        self._go = ctx.Event()
        self.stop = ctx.Event()
        self._start_at = ctx.Value("d", 0.0, lock=False)
        self._procs = [ctx.Process(target=run_job, name=f"bench-pub-{j.index}", daemon=True,
                                   args=(j, self.counters, self._ready, self._go, self._start_at, self._probes,
                                         self._results, self.stop)) for j in jobs]  # fmt: skip

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._procs if p.pid is not None]

    def start(self, lead_s: float = 1.0) -> float:
        """Start the processes; once all are connected, start them on the next whole second + ``lead_s``."""
        for p in self._procs:
            p.start()
        for _ in self._procs:
            self._ready.get(timeout=120)
        start_at = math.ceil(time.time() + lead_s)
        self._start_at.value = start_at
        self._go.set()
        return float(start_at)

    def published(self) -> tuple[int, int, int]:
        """Frames, robot states and PUBACKs so far, over every process."""
        c = self.counters
        n = len(self.jobs)
        return (sum(c[i * SLOTS] for i in range(n)), sum(c[i * SLOTS + 1] for i in range(n)),
                sum(c[i * SLOTS + 2] for i in range(n)))  # fmt: skip

    def probe_times(self) -> list[tuple[str, float]]:
        got = []
        while True:
            try:
                got.append(self._probes.get_nowait())
            except queue.Empty:
                return got

    def join(self, timeout_s: float) -> list[Outcome]:
        outcomes = []
        deadline = time.monotonic() + timeout_s
        for _ in self._procs:
            outcomes.append(self._results.get(timeout=max(1.0, deadline - time.monotonic())))
        for p in self._procs:
            p.join(max(1.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
        return sorted(outcomes, key=lambda o: o.index)


def split(n: int, parts: int) -> list[list[int]]:
    """Indices 0..n-1 dealt round-robin into ``parts`` slices (each process then spans the whole second)."""
    return [list(range(k, n, parts)) for k in range(parts)]
