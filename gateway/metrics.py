"""Prometheus metrics of the gateway (exposed on ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

FRAMES_RECEIVED = Counter("vigie_frames_received_total", "Wearable frame messages received")
FRAMES_STORED = Counter("vigie_frames_stored_total", "Wearable frames stored for the first time")
FRAMES_DUPLICATE = Counter("vigie_frames_duplicate_total", "Frames already stored (redeliveries)")
FRAMES_LATE = Counter("vigie_frames_late_total", "Frames stored as late (backfilled)")
FRAMES_UNASSIGNED = Counter("vigie_frames_unassigned_total", "Frames from a device with no assignment")
ROBOT_STATES_STORED = Counter("vigie_robot_states_stored_total", "Robot states stored for the first time")
DEAD_LETTERS = Counter("vigie_dead_letters_total", "Messages rejected into the dead-letter table", ["reason"])
ALERTS_RAISED = Counter("vigie_alerts_raised_total", "Alerts raised", ["rule", "severity"])
ALERT_REPEATS = Counter("vigie_alert_repeats_total", "Occurrences counted on an already open alert", ["rule"])
BATCH_SECONDS = Histogram(
    "vigie_ingest_batch_seconds", "Time to decode and store one batch",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)  # fmt: skip
BATCH_SIZE = Histogram("vigie_ingest_batch_messages", "Messages per batch", buckets=(1, 10, 100, 500, 1000, 5000))
QUEUE_DEPTH = Gauge("vigie_ingest_queue_depth", "Messages received and not yet stored")
INGEST_LAG = Gauge("vigie_ingest_lag_seconds", "Storage time minus device time of the newest stored frame")
TIME_TO_ACK = Gauge("vigie_alert_time_to_ack_seconds", "Time to acknowledge, last 30 days", ["site", "quantile"])
TIME_TO_RESOLVE = Gauge("vigie_alert_time_to_resolve_seconds", "Time to resolve, last 30 days", ["site", "quantile"])
DB_WRITE_FAILURES = Counter("vigie_db_write_failures_total", "Batches that failed to commit and were retried")
FORWARDED = Counter("vigie_ingest_forwarded_total", "Messages handed to the ingest partition that owns their id",
                    ["partition"])  # fmt: skip
