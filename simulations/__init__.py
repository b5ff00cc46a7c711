"""Crew simulator: synthetic wearables and robots speaking MQTT contract v1, for the demo and the tests.

Generation (``roster``, ``crew``, ``imu``, ``robots``) is pure and deterministic for a seed; I/O lives in
``publisher`` (MQTT), ``seed`` (gateway REST API) and ``cli`` (the ``vigie simulate`` subcommand).
"""
