"""``python -m simulations.robot_world``: the embedded simulator node in real time."""

import sys

from simulations.robot_world.node import main

sys.exit(main())
