"""``python -m devices.magventure.sim``: the simulated MagPro (same options as ``main.py simulate
--vendor magventure``)."""

import sys

from devices.magventure.sim.cli import main

sys.exit(main())
