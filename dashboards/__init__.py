"""The supervisors' live dashboard: a static single page of plain ES modules, with no build step.

It holds no rules and no maths; it renders what the gateway's public REST and WebSocket API say. The
gateway serves :func:`static_dir` at ``/`` (``StaticFiles(html=True)``), so ``index.html`` is the
page at ``/`` and its modules and stylesheet sit beside it, and :func:`basemap_file` at
``/api/v1/basemap`` unless the site configures its own (``VIGIE_BASEMAP_PATH``).
"""

from pathlib import Path


def static_dir() -> Path:
    """The folder holding ``index.html``, its ES modules and its stylesheet."""
    return Path(__file__).resolve().parent / "static"


def basemap_file() -> Path:
    """The offline basemap shipped with the package: a GeoJSON FeatureCollection of Paris."""
    return Path(__file__).resolve().parent / "basemap" / "paris.geojson"
