"""A simulated MagVenture MagPro on a pseudo-terminal or TCP (``python -m devices.magventure.sim``)."""
