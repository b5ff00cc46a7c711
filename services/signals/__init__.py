"""Weak signals: trends over days and weeks before the accident (issue 9; docs/signals.md)."""
