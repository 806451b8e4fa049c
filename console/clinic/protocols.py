"""The clinic's protocol presets (resources/protocols.json), looked up by key or name.

The protocol type itself is :class:`devices.protocol.ProtocolSpec`, the one
the device layer, the simulator and the recorder share; it is re-exported
here so the clinic's code keeps one import for presets and their type.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.resource_data import load as load_json
from devices.protocol import ProtocolSpec

__all__ = ["Preset", "ProtocolSpec", "preset", "preset_key", "presets", "protocol_name"]

DEFAULT_TARGET = "left DLPFC"
DEFAULT_PERCENT_MT = 120.0
"""What a new course starts with when the clinic's preset names no target or intensity of its own."""


@dataclass(frozen=True)
class Preset:
    """One of the clinic's presets: the protocol, and what a new course with it starts from."""

    key: str
    spec: ProtocolSpec
    target: str = DEFAULT_TARGET
    default_percent_mt: float = DEFAULT_PERCENT_MT


def presets() -> dict[str, Preset]:
    """The clinic's protocol presets by key ("10hz", "itbs", ...), in the file's order."""
    return {
        key: Preset(key, ProtocolSpec.from_mapping(data), str(data.get("target", DEFAULT_TARGET)),
                    float(data.get("default_percent_mt", DEFAULT_PERCENT_MT)))
        for key, data in load_json("protocols.json").get("presets", {}).items()
    }


def protocol_name(key: str) -> str:
    """The preset's name ("10 Hz rTMS left DLPFC") for its key, or the key when it is not a preset."""
    found = presets().get(key)
    return found.spec.name if found is not None else key


def preset(key_or_name: str | None) -> ProtocolSpec | None:
    """The preset of resources/protocols.json by key ("10hz") or full name, or None."""
    found = _find(key_or_name)
    return found.spec if found is not None else None


def preset_key(spec_or_name: ProtocolSpec | str | None) -> str | None:
    """The preset key ("itbs") whose key or name matches, or None."""
    name = spec_or_name.name if isinstance(spec_or_name, ProtocolSpec) else spec_or_name
    found = _find(name)
    return found.key if found is not None else None


def _find(key_or_name: str | None) -> Preset | None:
    if not key_or_name:
        return None
    every = presets()
    return every.get(key_or_name) or next((p for p in every.values() if p.spec.name == key_or_name), None)
