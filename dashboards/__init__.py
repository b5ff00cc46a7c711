"""The supervisors' live dashboard: a static single page of plain ES modules, with no build step.

It holds no rules and no maths; it renders what the gateway's public REST and WebSocket API say. The
gateway serves :func:`static_dir` at ``/`` (``StaticFiles(html=True)``), so ``index.html`` is the
page at ``/`` and its modules and stylesheet sit beside it.
"""

from pathlib import Path


def static_dir() -> Path:
    """The folder holding ``index.html``, its ES modules and its stylesheet."""
    return Path(__file__).resolve().parent / "static"
