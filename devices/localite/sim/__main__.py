"""``python -m devices.localite.sim``: the simulated TMS Navigator."""

import sys

from devices.localite.sim.cli import main

sys.exit(main())
