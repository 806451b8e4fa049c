"""``python -m devices.magstim.sim``: the simulated Magstim unit."""

import sys

from devices.magstim.sim.cli import main

sys.exit(main())
