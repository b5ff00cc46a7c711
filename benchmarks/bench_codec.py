"""Micro-benchmark of the MQTT payload decoder on the load test's own payloads.

    .venv/bin/python -m benchmarks.bench_codec [--payloads 2000] [--repeat 15] [--compare OLD_CODEC_PY]

Decodes ``--payloads`` full wearable frames (every contract section, 50 Hz IMU: the 2,591-byte frames of
``benchmarks.load``) with ``gateway.mqtt.codec.decode_frame`` and as many robot states with
``decode_robot_state``, and, as the baseline in the same process on the same bytes, a bare ``orjson.loads``
(parsing alone: no validation, no domain record). Prints one JSON object: µs per payload, best of ``--repeat``
interleaved rounds (the machine is shared), and each decoder's ratio to its baseline. ``--compare`` also
times another implementation of the codec in the same rounds (a ``codec.py`` with the same two functions,
e.g. ``git show HEAD~1:gateway/mqtt/codec.py > /tmp/old_codec.py``), with the speed-up of the current one.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import orjson

from benchmarks.load import payloads
from gateway.mqtt import codec


def _module(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_codec_under_test", Path(path))
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # resolving string annotations (pydantic's) looks the module up there
    spec.loader.exec_module(module)
    return module


def bench_payloads(n: int, now: datetime) -> tuple[list[bytes], list[bytes]]:
    """n distinct full frames and n robot states (different devices, seconds and IMU phases), all valid now."""
    start = int(now.timestamp()) - n
    frames = [payloads.wearable_template(payloads.device_id(i % 100), i % 100)
              .render(payloads.wearable_seq(start + i), payloads.rfc3339_ms(start + i).encode())
              for i in range(n)]  # fmt: skip
    robots = [payloads.robot_template(payloads.robot_id(i % 10), i % 10)
              .render(payloads.robot_seq(10 * (start + i)), payloads.rfc3339_ms(start + i).encode())
              for i in range(n)]  # fmt: skip
    return frames, robots


def seconds(step: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    step()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--payloads", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--compare", metavar="CODEC_PY", help="another codec.py to time in the same rounds")
    args = parser.parse_args()
    n = args.payloads
    now = datetime.now(UTC)
    frames, robots = bench_payloads(n, now)
    devices = [payloads.device_id(i % 100) for i in range(n)]
    robot_ids = [payloads.robot_id(i % 10) for i in range(n)]

    def decoding(module: ModuleType) -> dict[str, Callable[[], None]]:
        def frames_step() -> None:
            for payload, device in zip(frames, devices, strict=True):
                module.decode_frame(payload, device, now)

        def robots_step() -> None:
            for payload, robot in zip(robots, robot_ids, strict=True):
                module.decode_robot_state(payload, robot, now)

        frames_step()  # every payload decodes: a benchmark of rejections would measure something else
        robots_step()
        return {"decode_frame_us": frames_step, "decode_robot_state_us": robots_step}

    def parsing(batch: list[bytes]) -> Callable[[], None]:
        def step() -> None:
            for payload in batch:  # each result dropped at once, as the decoders' are
                orjson.loads(payload)

        return step

    steps = {
        **decoding(codec),
        "orjson_loads_frame_us": parsing(frames),
        "orjson_loads_robot_state_us": parsing(robots),
    }
    if args.compare:
        steps.update({f"compare_{name}": step for name, step in decoding(_module(args.compare)).items()})
    # Interleaved rounds, best of each: a neighbour's burst on the shared cores slows a round, not one step.
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(args.repeat):
        for name, step in steps.items():
            best[name] = min(best[name], seconds(step))
    results: dict[str, object] = {"payloads": n, "frame_bytes": len(frames[0]), "robot_state_bytes": len(robots[0])}
    results.update({name: round(b / n * 1e6, 2) for name, b in best.items()})
    results["frame_ratio_to_orjson"] = round(best["decode_frame_us"] / best["orjson_loads_frame_us"], 2)
    results["robot_state_ratio_to_orjson"] = round(
        best["decode_robot_state_us"] / best["orjson_loads_robot_state_us"], 2
    )
    if args.compare:
        results["compare_codec"] = args.compare
        for kind in ("frame", "robot_state"):
            results[f"compare_{kind}_ratio_to_orjson"] = round(
                best[f"compare_decode_{kind}_us"] / best[f"orjson_loads_{kind}_us"], 2
            )
            results[f"{kind}_speedup"] = round(best[f"compare_decode_{kind}_us"] / best[f"decode_{kind}_us"], 2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
