"""``vigie bench load``: simulated wearables and robots through the real Mosquitto → gateway → TimescaleDB path.

``payloads`` (pre-serialised frames, patched per second) → ``publisher`` (paced paho processes) → the ``rig``
(private broker, database, gateway processes) → ``sampler`` (lag, backlog, CPU, memory) and ``probes`` (SOS
→ ``alert.raised`` latency) → ``sustained`` / ``drain`` → ``report`` (JSON, docs/benchmarks.md).
"""
