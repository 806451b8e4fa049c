"""The simulated NDI unit's command interpreter: one command line in, one reply out.

It follows VENDORS.md §1.4 and what ndicapi and scikit-surgerynditracker send: INIT, GETINFO
(answered ERROR01, as an older firmware does, so ndicapi takes its VER path), COMM, VER, PHSR,
PHF, PHRQ, PVWR, PINIT, PENA, TSTART, BX, TX, TSTOP; anything else is ERROR01, a bad CRC ERROR04.

Which tool a port handle is: a ROM whose bytes contain ``REF`` is the head reference, one with
``COIL`` the coil; otherwise the first tool initialised is the coil and the second the reference
(further tools are never seen). ``wired`` (Aurora-like) starts with both tools plugged in, handles
0A (coil) and 0B (reference), needing no ROM.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from devices.ndi import wire
from devices.ndi.sim.motion import Motion

BAUDS = {"0": 9600, "1": 14400, "2": 19200, "3": 38400, "4": 57600, "5": 115200, "6": 921600,
         "7": 1228739, "A": 230400}
WIRED = {0x0A: "coil", 0x0B: "reference"}
MAX_HANDLES = 9
PORT_OK = wire.PORT_OCCUPIED | wire.PORT_INITIALISED | wire.PORT_ENABLED
NOT_NORMALLY_REPORTED = 0x0800


@dataclass
class Tool:
    handle: int
    rom: bytearray = field(default_factory=bytearray)
    wired_role: str | None = None
    role: str | None = None
    initialised: bool = False
    enabled: bool = False


class Answer(NamedTuple):
    """A reply, and the line rate the unit uses once it has been sent (COMM), if it changes."""

    data: bytes
    new_rate: int | None = None
    tracking_frame: int | None = None


@dataclass
class Identity:
    model: str = "Polaris Spectra"
    serial: str = "P6-01234"
    freeze_tag: str = "Polaris Spectra Rev 008.000"


class SimUnit:
    def __init__(self, motion: Motion, identity: Identity, *, wired: bool = False,
                 no_bx: bool = False) -> None:
        self.motion = motion
        self.identity = identity
        self.wired = wired
        self.no_bx = no_bx
        self.rate = 9600
        self.tools: dict[int, Tool] = {}
        self.initialised = False
        self.tracking = False
        self.reset()

    def reset(self) -> None:
        """Power-up (or a break): 9600 baud, nothing initialised; wired tools still plugged in."""
        self.rate = 9600
        self.initialised = False
        self.reset_tools()

    # --- one command -----------------------------------------------------------------------------
    def handle(self, line: bytes, frame: int) -> Answer:
        """``line`` without its ``\\r``; ``frame`` the camera's current frame number."""
        text = wire.check_command(line)
        if text is None:
            return self._error("04")
        name = wire.command_name(line)
        args = text[len(name) + 1:] if len(text) > len(name) else ""
        if name == "INIT":
            self.reset_tools()
            self.initialised = True
            return self._ok()
        if name == "GETINFO":
            return self._error("01")
        if name == "VER":
            return Answer(wire.text_reply(self._version()))
        if not self.initialised:
            return self._error("10")
        handler = {"COMM": self._comm, "PHSR": self._phsr, "PHF": self._phf, "PHRQ": self._phrq,
                   "PVWR": self._pvwr, "PINIT": self._pinit, "PENA": self._pena,
                   "TSTART": self._tstart, "TSTOP": self._tstop}.get(name)
        if handler is not None:
            return handler(args)
        if name in ("BX", "TX"):
            return self._track(name, args, frame)
        return self._error("01")

    def reset_tools(self) -> None:
        self.tracking = False
        self.tools = {h: Tool(h, wired_role=r) for h, r in WIRED.items()} if self.wired else {}

    @staticmethod
    def _ok() -> Answer:
        return Answer(wire.text_reply("OKAY"))

    @staticmethod
    def _error(code: str) -> Answer:
        return Answer(wire.text_reply(f"ERROR{code}"))

    def _version(self) -> str:
        i = self.identity
        return "\n".join((f"{i.model} Control Firmware", "NDI S/N: " + i.serial,
                          "Characterization Date: 01/01/20", f"Freeze Tag: {i.freeze_tag}",
                          "Freeze Date: 01/01/20", "(C) Northern Digital Inc.", ""))

    def _comm(self, args: str) -> Answer:
        if len(args) != 5 or args[0] not in BAUDS or args[1:] not in ("0000", "0001"):
            return self._error("06")
        return Answer(wire.text_reply("OKAY"), new_rate=BAUDS[args[0]])

    def _tool(self, args: str) -> Tool | None:
        try:
            return self.tools.get(int(args[:2], 16))
        except ValueError:
            return None

    def _phsr(self, args: str) -> Answer:
        option = args[:2] or "00"
        chosen = []
        for tool in sorted(self.tools.values(), key=lambda x: x.handle):
            if option == "01":
                continue  # nothing waits to be freed
            if option == "02" and tool.initialised:
                continue
            if option == "03" and (not tool.initialised or tool.enabled):
                continue
            if option == "04" and not tool.enabled:
                continue
            status = wire.PORT_OCCUPIED | (wire.PORT_INITIALISED if tool.initialised else 0) \
                | (wire.PORT_ENABLED if tool.enabled else 0)
            chosen.append(f"{tool.handle:02X}{status:03X}")
        return Answer(wire.text_reply(f"{len(chosen):02X}" + "".join(chosen)))

    def _phf(self, args: str) -> Answer:
        tool = self._tool(args)
        if tool is None:
            return self._error("08")
        if tool.wired_role is None:
            del self.tools[tool.handle]
        return self._ok()

    def _phrq(self, args: str) -> Answer:
        for handle in range(1, MAX_HANDLES + 1):
            if handle not in self.tools:
                self.tools[handle] = Tool(handle)
                return Answer(wire.text_reply(f"{handle:02X}"))
        return self._error("2E")

    def _pvwr(self, args: str) -> Answer:
        tool = self._tool(args)
        if tool is None:
            return self._error("08")
        try:
            addr = int(args[2:6], 16)
            data = bytes.fromhex(args[6:])
        except ValueError:
            return self._error("24")
        if len(data) != 64 or addr % 64 or addr >= 1024:
            return self._error("24")
        rom = tool.rom
        if len(rom) < addr + 64:
            rom.extend(bytes(addr + 64 - len(rom)))
        rom[addr:addr + 64] = data
        return self._ok()

    def _pinit(self, args: str) -> Answer:
        tool = self._tool(args)
        if tool is None:
            return self._error("08")
        if tool.wired_role is None and not any(tool.rom):
            return self._error("0D")
        tool.initialised = True
        tool.role = tool.wired_role or self._role(bytes(tool.rom))
        return self._ok()

    def _role(self, rom: bytes) -> str | None:
        upper = rom.upper()
        if b"REF" in upper:
            return "reference"
        if b"COIL" in upper:
            return "coil"
        taken = {t.role for t in self.tools.values()}
        return next((r for r in ("coil", "reference") if r not in taken), None)

    def _pena(self, args: str) -> Answer:
        tool = self._tool(args)
        if tool is None:
            return self._error("08")
        if len(args) != 3 or args[2] not in "SDB":
            return self._error("09")
        if not tool.initialised:
            return self._error("0E")
        tool.enabled = True
        return self._ok()

    def _tstart(self, args: str) -> Answer:
        self.tracking = True
        return self._ok()

    def _tstop(self, args: str) -> Answer:
        self.tracking = False
        return self._ok()

    # --- tracking --------------------------------------------------------------------------------
    def _track(self, name: str, args: str, frame: int) -> Answer:
        if not self.tracking:
            return self._error("0C")
        if name == "BX" and self.no_bx:
            return self._error("01")
        try:
            option = int(args[:4] or "0001", 16)
        except ValueError:
            return self._error("24")
        coil, ref = self.motion.at(frame)
        records = []
        for tool in sorted(self.tools.values(), key=lambda x: x.handle):
            if not tool.enabled:
                continue
            view = coil if tool.role == "coil" else ref if tool.role == "reference" else None
            if view is None or view.missing or (view.out_of_volume and not option & NOT_NORMALLY_REPORTED):
                records.append(wire.ToolRecord(tool.handle, wire.HANDLE_MISSING, None, None, None,
                                               PORT_OK, frame))
                continue
            port = PORT_OK | (wire.PORT_OUT_OF_VOLUME if view.out_of_volume else 0)
            records.append(wire.ToolRecord(tool.handle, wire.HANDLE_VALID, view.q, view.t, view.rms,
                                           port, frame))
        tracking = wire.Tracking(tuple(records), 0)
        data = wire.encode_bx(tracking) if name == "BX" else wire.encode_tx(tracking)
        return Answer(data, tracking_frame=frame)
