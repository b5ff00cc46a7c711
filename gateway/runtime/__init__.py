"""Private, throwaway real services (Mosquitto, PostgreSQL + TimescaleDB) for the demo and the tests.

Each service runs from a directory the caller chooses, on a port the caller chooses, so that
`vigie up` and a test session never touch a system-wide broker or database.
"""
