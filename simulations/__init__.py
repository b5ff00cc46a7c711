"""Crew simulator: synthetic wearables and robots speaking MQTT contract v1, for the demo and the tests.

Generation (``roster``, ``agents``, ``crew``, ``imu``, ``robots``, ``weather``) is pure and deterministic for a seed;
``drift_model`` injects ground-truth drifts into it, ``scenario`` and ``timebase`` lay out the simulated days, and
``history`` sums past days as the gateway would have recorded them (``drifts`` is the daily-level population of
the weak-signal benchmark). I/O lives in ``publisher`` (MQTT), ``seed`` (gateway REST API) and ``cli`` (the
``vigie simulate`` subcommand).
"""
