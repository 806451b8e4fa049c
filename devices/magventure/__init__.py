"""MagVenture MagPro stimulators (R30, X100, with or without MagOption) on their serial port COM2.

``codec`` turns the ``FE LEN PAYLOAD CRC8 FF`` byte stream into console events, ``adapter`` is
the live link (``magventure+serial://PORT``), ``capture`` records and replays it, and ``sim`` is a
protocol-faithful simulated MagPro. What the protocol is, with sources, is in
shared/protocol/VENDORS.md §1.1; what is unverified against hardware is in docs/vendors/magventure.md.
"""
