"""Benchmarks that need more than the domain: a real browser driving the dashboard against a synthetic site.

They are run by ``make bench`` and write their figures to ``docs/benchmarks.md``; they are never part of
the test suite (performance is measured here, not asserted by timed unit tests).
"""
