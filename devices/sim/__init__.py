"""The simulated TSCP/1 device: a stimulator and coil tracker on a real pseudo-terminal.

``python main.py simulate`` (or ``python -m devices.sim``) serves it;
``SimulatorProcess`` (devices.sim.process) starts one from tests, the record
command and the GUI demo. Modules, bottom up: settings (tunables from
resources/simulator.json), plan (protocol timing), pose and thermal (the
physical models), model (the device's state machine over device time), link
(sequence numbers, CRCs, noise), transport (pty or TCP), server (the event
loop), cli, process.
"""
