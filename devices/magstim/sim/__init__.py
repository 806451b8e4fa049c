"""The simulated Magstim unit (``python -m devices.magstim.sim``): a real program on a pty or TCP."""
