"""``python -m simulations``: the ``vigie simulate`` flags without the rest of the ``vigie`` command."""

import sys

from simulations.cli import main

sys.exit(main())
