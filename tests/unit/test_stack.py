import os
import shutil
import tempfile
from pathlib import Path

from gateway.stack import cluster_home


def test_demo_cluster_moves_out_of_a_private_checkout_when_run_as_root(tmp_path: Path):
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    state_dir = private / ".vigie"
    state_dir.mkdir()
    home = cluster_home(state_dir)
    if os.geteuid() == 0:  # PostgreSQL then runs as `postgres`, which cannot traverse `private`
        assert str(home).startswith("/var/lib/vigie/clusters/")
        assert (state_dir / "pg").resolve() == home.resolve()
        assert cluster_home(state_dir) == home  # stable across runs
    else:
        assert home == state_dir / "pg"


def test_demo_cluster_stays_in_a_traversable_state_dir():
    base = Path(tempfile.mkdtemp(prefix="vigie-stack-"))
    try:
        base.chmod(0o711)  # /tmp itself is world-traversable
        (base / ".vigie").mkdir()
        assert cluster_home(base / ".vigie") == base / ".vigie" / "pg"
    finally:
        shutil.rmtree(base)
