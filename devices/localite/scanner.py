"""Cutting TMS Navigator's byte stream into JSON objects.

Navigator sends bare JSON objects with no length prefix and no delimiter (VENDORS.md §1.3). The
public client appends one byte at a time and calls ``json.loads`` until it succeeds, which never
recovers from a stray byte and is quadratic in the object's length. This scanner is incremental and
linear: it follows braces outside strings (a string may hold braces, and escaped quotes), so an
object is cut where its outermost brace closes, whatever the TCP segments were.

Scanner rule, exact (the fuzz test implements it independently):

* Between objects, whitespace is ignored. A maximal run of other bytes before the next ``{`` (line
  noise, a stray ``}``, text) is one rejected piece, kept from its first non-whitespace byte.
* From a ``{``, bytes are followed to the brace that brings the depth back to zero; ``"`` opens and
  closes a string, and ``\\`` inside a string escapes the next byte. Those bytes are a *candidate*,
  handed to the codec, which accepts it or rejects it as one piece (not JSON, or a value out of
  range).
* A candidate that has not closed within :data:`MAX_OBJECT` bytes is cut there: its first bytes are
  one rejected piece, and everything up to the next ``{`` is skipped as part of it.
* An unfinished candidate waits for more bytes; so does a junk run until the next ``{``. A new
  connection (:meth:`ObjectScanner.reset`) rejects what was pending: it never joins new bytes.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator

MAX_OBJECT = 8192
"""The longest object accepted, in bytes. Navigator's known messages are under 200 bytes (a
position is ~120); an object that has not closed by then is a torn or runaway one, and cutting it
bounds both memory and what a torn object can swallow of the objects after it."""
REJECTED_KEPT = 50
KEEP_BYTES = 64
WHITESPACE = b" \t\r\n"

_GAP, _OBJECT, _SKIP = 0, 1, 2
_OUTSIDE = re.compile(rb'[{}"]')
_INSIDE = re.compile(rb'["\\]')


class ObjectScanner:
    """Bytes in any split -> candidate objects (``bytes`` from ``{`` to its closing ``}``)."""

    def __init__(self, max_object: int = MAX_OBJECT) -> None:
        self.max_object = max_object
        self._buf = bytearray()
        self._state = _GAP
        self._scan = 0  # offset in the current candidate where scanning resumes
        self._depth = 0
        self._in_string = False
        self._junk = bytearray()
        self._has_junk = False
        self.rejected = 0
        self.rejected_lines: deque[bytes] = deque(maxlen=REJECTED_KEPT)

    def reject(self, raw: bytes | bytearray) -> None:
        """Count one rejected piece and keep its first bytes (the codec calls it for bad candidates)."""
        self.rejected += 1
        self.rejected_lines.append(bytes(raw[:KEEP_BYTES]))

    def reset(self) -> None:
        """A new connection: a pending junk run or unfinished object is rejected, never joined."""
        self._flush_junk()
        if self._state == _OBJECT and self._buf:
            self.reject(self._buf)
        self._buf.clear()
        self._state = _GAP

    def _add_junk(self, piece: bytes | bytearray) -> None:
        if not self._has_junk:
            piece = piece.lstrip(WHITESPACE)
            if not piece:
                return
            self._has_junk = True
        room = KEEP_BYTES - len(self._junk)
        if room > 0:
            self._junk += piece[:room]

    def _flush_junk(self) -> None:
        if self._has_junk:
            self.reject(self._junk)
            self._junk.clear()
            self._has_junk = False

    def split(self, data: bytes | bytearray) -> Iterator[bytes]:
        """The candidates completed by ``data``, in order; junk is counted when the ``{`` that ends
        it arrives, before that object is yielded. Consume it whole: the buffer is trimmed at its
        end."""
        buf = self._buf
        buf += data
        n = len(buf)
        i = 0
        while i < n:
            if self._state != _OBJECT:
                p = buf.find(b"{", i)
                stop = n if p < 0 else p
                if self._state == _GAP and stop > i:
                    self._add_junk(buf[i:stop])
                if p < 0:
                    i = n
                    break
                if self._state == _GAP:
                    self._flush_junk()
                self._state, self._scan, self._depth, self._in_string = _OBJECT, 0, 0, False
                i = p
            end = self._close(buf, i, n)
            if end < 0:
                if n - i >= self.max_object:  # cut: the rest up to the next '{' goes with it
                    self.reject(buf[i:i + KEEP_BYTES])
                    self._state = _SKIP
                    i += self.max_object
                    continue
                break  # wait for more bytes
            self._state = _GAP
            yield bytes(buf[i:end])
            i = end
        del buf[:i]

    def _close(self, buf: bytearray, start: int, n: int) -> int:
        """End (exclusive) of the candidate starting at ``start``, or -1 while it is unfinished
        within ``max_object`` bytes; the scan state is kept for the next call."""
        limit = min(n, start + self.max_object)
        j = start + self._scan
        depth, in_string = self._depth, self._in_string
        while j < limit:
            if in_string:
                m = _INSIDE.search(buf, j, limit)
                if m is None:
                    j = limit
                    break
                if m.group() == b"\\":
                    j = m.end() + 1  # the escaped byte, whatever it is (it may not have arrived yet)
                    continue
                in_string = False
                j = m.end()
                continue
            m = _OUTSIDE.search(buf, j, limit)
            if m is None:
                j = limit
                break
            c = m.group()
            j = m.end()
            if c == b'"':
                in_string = True
            elif c == b"{":
                depth += 1
            else:
                depth -= 1
                if depth == 0:
                    return j
        self._scan, self._depth, self._in_string = j - start, depth, in_string
        return -1
