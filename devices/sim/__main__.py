"""``python -m devices.sim``: the simulated TSCP/1 device (same options as ``main.py simulate``)."""

import sys

from devices.sim.cli import main

sys.exit(main())
