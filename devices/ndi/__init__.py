"""NDI Polaris / Aurora trackers over the Combined API on a serial line (``ndi+serial://``).

See docs/vendors/ndi.md for the clinic side and ../shared/protocol/VENDORS.md §1.4 for the wire.
"""
