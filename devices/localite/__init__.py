"""Localite TMS Navigator, read over its JSON-over-TCP interface (port 6666).

``scanner`` cuts the undelimited byte stream into JSON objects, ``codec`` turns them into console
events (coil pose, di/dt, amplitude), ``adapter`` is the live link (``localite+tcp://HOST:6666``),
``capture`` records and replays it, and ``sim`` is a simulated Navigator serving TCP. What is known
of the protocol, with sources, is in shared/protocol/VENDORS.md §1.3 (one public client's view,
ctrl-localite); what is unverified against a real Navigator is in docs/vendors/localite.md.
"""
