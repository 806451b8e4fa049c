"""Magstim 200², BiStim², Rapid² and Horizon stimulators over their serial protocol.

``codec`` frames and decodes the bytes, ``view`` turns replies into the
console's events, ``rules`` holds the unit's timing and energy rules,
``adapter`` is the console's link (``magstim+serial://``) and ``run`` the
protocol it runs with control, ``capture`` records and replays that link,
and ``sim`` is a simulated unit.
"""
