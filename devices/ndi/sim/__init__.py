"""A simulated NDI Polaris/Aurora speaking the Combined API on a pseudo-terminal."""
