"""``python -m devices.ndi.sim``: the simulated NDI tracker (see ``--help``)."""

import sys

from devices.ndi.sim.cli import main

sys.exit(main())
