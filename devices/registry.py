"""Device adapters found by the scheme of their address (``scheme://...``).

Built-in schemes are registered here; the simulator registers ``sim://`` with
:func:`register_scheme`; third-party adapters (vendor stimulators, trackers)
register through the entry-point group ``tms_console.devices``: the entry
point's name is the scheme and it loads a factory ``factory(url) ->
DeviceAdapter`` whose ``description`` attribute (or first docstring line)
says in one line what it is. The built-ins are listed in that group as well;
registering them in code too keeps a checkout that was not reinstalled
working.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from importlib import metadata

from devices import replay, serial_adapter
from devices.adapter import DeviceAdapter, DeviceError, redact_url
from devices.localite import adapter as localite_adapter
from devices.magstim import adapter as magstim_adapter
from devices.magventure import adapter as magventure_adapter
from devices.ndi import adapter as ndi_adapter
from devices.sim import adapter as sim_adapter

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "tms_console.devices"

Factory = Callable[[str], DeviceAdapter]

_schemes: dict[str, tuple[Factory, str]] = {}
_entry_points_loaded = False
_lock = threading.RLock()


def register_scheme(scheme: str, factory: Factory, description: str) -> None:
    """Make ``scheme://...`` addresses build adapters with ``factory(url)``.

    Registering a scheme again replaces it (the last registration wins), so a
    module can be reloaded; the description is one line for ``devices``.
    """
    scheme = scheme.lower()
    with _lock:
        _schemes[scheme] = (factory, description)


def _describe(factory: object) -> str:
    text = getattr(factory, "description", None) or (getattr(factory, "__doc__", None) or "").strip()
    return text.splitlines()[0] if text else "(no description)"


def _entry_points() -> list[metadata.EntryPoint]:
    return list(metadata.entry_points(group=ENTRY_POINT_GROUP))


def _load_entry_points() -> None:
    """Load third-party adapters once; a broken plug-in is logged and skipped, never fatal."""
    global _entry_points_loaded
    with _lock:
        if _entry_points_loaded:
            return
        _entry_points_loaded = True
        for entry in _entry_points():
            scheme = entry.name.lower()
            try:
                factory = entry.load()
            except Exception:
                log.exception("device adapter %r (%s) failed to load; skipped", scheme, entry.value)
                continue
            if not callable(factory):
                log.error("device adapter %r (%s) is not callable; skipped", scheme, entry.value)
                continue
            known = _schemes.get(scheme)
            if known is not None:
                if known[0] is not factory:
                    log.warning("device adapter %r from %s ignored: the scheme is taken",
                                scheme, entry.value)
                continue  # a built-in listed in the group as well: keep its description
            _schemes[scheme] = (factory, _describe(factory))


def adapter_schemes() -> dict[str, str]:
    """Every known scheme -> a one-line description, sorted by scheme."""
    _load_entry_points()
    with _lock:
        return {scheme: _schemes[scheme][1] for scheme in sorted(_schemes)}


def create_adapter(url: str) -> DeviceAdapter:
    """The adapter for ``url``, not yet opened; a bad address is a :class:`DeviceError`."""
    if "://" not in url:
        raise DeviceError(
            f"{redact_url(url)!r} is not a device address: expected scheme://location, e.g. "
            "tscp+serial:///dev/ttyUSB0 (known schemes: " + ", ".join(adapter_schemes()) + ")."
        )
    scheme = url.split("://", 1)[0].lower()
    _load_entry_points()
    with _lock:
        found = _schemes.get(scheme)
    if found is None:
        raise DeviceError(
            f"Unknown kind of device address {scheme + '://'!r} in {redact_url(url)!r}; known schemes: "
            + ", ".join(f"{s}://" for s in adapter_schemes()) + "."
        )
    adapter = found[0](url)
    adapter.url = url
    return adapter


register_scheme("tscp+serial", serial_adapter.from_url, _describe(serial_adapter.from_url))
register_scheme("serial", serial_adapter.from_url, "alias of tscp+serial://: serial:///dev/ttyUSB0 or serial://COM3")
register_scheme(
    "tscp+socket", serial_adapter.from_url,
    "TSCP/1 over TCP (the simulator's --tcp mode): tscp+socket://127.0.0.1:PORT[?capture=FILE]",
)
register_scheme("replay", replay.from_url, _describe(replay.from_url))
register_scheme("sim", sim_adapter.from_url, _describe(sim_adapter.from_url))
register_scheme("magventure+serial", magventure_adapter.from_url, _describe(magventure_adapter.from_url))
register_scheme(
    "magventure+socket", magventure_adapter.from_url,
    "MagVenture MagPro simulator over TCP: magventure+socket://127.0.0.1:PORT[?control=1&layout=a|b&capture=FILE]",
)
register_scheme("magstim+serial", magstim_adapter.from_url, _describe(magstim_adapter.from_url))
register_scheme("ndi+serial", ndi_adapter.from_url, _describe(ndi_adapter.from_url))
register_scheme("localite+tcp", localite_adapter.from_url, _describe(localite_adapter.from_url))
