"""The one error the runtime raises, and the log excerpt that makes it actionable."""

from __future__ import annotations

from pathlib import Path


class ServiceStartError(RuntimeError):
    """A private service could not be started or reached; the message says what to do about it."""


def log_tail(path: Path, max_lines: int = 30) -> str:
    """Return the last `max_lines` lines of a service log, indented, for an error message.

    A start failure is almost always explained in the service's own log (bad config line, port
    taken, missing library), so errors quote it rather than asking the user to go and look.
    """
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return f"    (no log at {path})"
    except OSError as exc:
        return f"    (log {path} unreadable: {exc})"
    if not lines:
        return f"    (log {path} is empty)"
    return "\n".join(f"    {line}" for line in lines[-max_lines:])
