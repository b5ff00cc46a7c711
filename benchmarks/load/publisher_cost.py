"""What a publisher costs: paho vs :mod:`benchmarks.load.rawmqtt` sending the same pre-generated frames.

    python -m benchmarks.load.publisher_cost [--frames 20000] [--rounds 2]

A private Mosquitto (as the benchmark configures it), one paho MQTT 5 subscriber at QoS 1 draining in its own
process (as the gateway would), and each publisher in a fresh process running the load generator's own code
(:class:`benchmarks.load.publisher.RawLink` / ``PahoLink``, burst mode: ``--frames`` full 2.5 KB frames from
1,000 devices) until every PUBACK is in. Reports msg/s and the publisher process's CPU seconds per 1,000
messages (user + system, its network thread included), rounds alternating so both see the same machine.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from benchmarks.load import publisher
from gateway.runtime.mosquitto import MosquittoBroker
from gateway.runtime.ports import free_port

DEVICES = 1000


def _subscribe(host: str, port: int, ready: Any, count: Any, stop: Any) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="cost-sub", protocol=mqtt.MQTTv5)

    def on_message(_c: mqtt.Client, _u: Any, _m: mqtt.MQTTMessage) -> None:
        count.value += 1

    client.on_message = on_message
    client.on_subscribe = lambda _c, _u, _mid, _codes, _p: ready.set()
    client.on_connect = lambda c, _u, _f, _r, _p: c.subscribe("vigie/v1/#", qos=1)
    client.connect(host, port)
    client.loop_start()
    stop.wait()
    client.disconnect()
    client.loop_stop()


def _publish(kind: str, host: str, port: int, frames: int, result: Any) -> None:
    seconds = list(range(1_800_000_000, 1_800_000_000 + frames // DEVICES))
    job = publisher.Job(0, host, port, "cost", "cost", list(range(DEVICES)), [], DEVICES, 0,
                        burst_seconds=seconds, publisher=kind)  # fmt: skip
    counters = [0, 0, 0]
    link = publisher.connect(job, counters)  # templates are pre-generated here, before the clock starts
    cpu0, t0 = os.times(), time.perf_counter()
    publisher._burst(job, link, counters)
    link.wait_acked(300)
    elapsed, cpu1 = time.perf_counter() - t0, os.times()
    link.close()
    result.put({"publisher": kind, "messages": counters[0], "acked": link.acked, "failed": link.failed,
                "elapsed_s": elapsed, "cpu_s": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)})  # fmt: skip


def measure(frames: int, rounds: int) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="vigie-pubcost-") as tmp:
        broker = MosquittoBroker(Path(tmp), free_port())
        broker.start()
        ready, stop, count = ctx.Event(), ctx.Event(), ctx.Value("q", 0)
        sub = ctx.Process(target=_subscribe, args=(broker.host, broker.port, ready, count, stop), daemon=True)
        sub.start()
        try:
            if not ready.wait(10):
                raise RuntimeError("the subscriber did not subscribe")
            for _ in range(rounds):
                for kind in ("paho", "raw"):
                    result: Any = ctx.Queue()
                    before = count.value
                    proc = ctx.Process(target=_publish, args=(kind, broker.host, broker.port, frames, result))
                    proc.start()
                    run = result.get(timeout=600)
                    proc.join(30)
                    deadline = time.monotonic() + 120
                    while count.value - before < run["acked"] and time.monotonic() < deadline:
                        time.sleep(0.05)  # the subscriber drains before the next round starts
                    run["received"] = count.value - before
                    runs.append(run)
        finally:
            stop.set()
            sub.join(10)
            broker.stop()
    summary: dict[str, Any] = {}
    for kind in ("paho", "raw"):
        mine = [r for r in runs if r["publisher"] == kind]
        msgs = sum(r["messages"] for r in mine)
        summary[kind] = {"msg_per_s": round(msgs / sum(r["elapsed_s"] for r in mine)),
                         "cpu_s_per_1000": round(1000 * sum(r["cpu_s"] for r in mine) / msgs, 4)}  # fmt: skip
    summary["raw/paho msg/s"] = round(summary["raw"]["msg_per_s"] / summary["paho"]["msg_per_s"], 2)
    summary["paho/raw CPU per message"] = round(summary["paho"]["cpu_s_per_1000"] / summary["raw"]["cpu_s_per_1000"], 1)
    return {"frames": frames, "rounds": runs, "summary": summary}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.load.publisher_cost", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--frames", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.frames, args.rounds), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
