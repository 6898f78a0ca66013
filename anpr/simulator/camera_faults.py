"""Camera faults for the real-plate feeds, per camera, in clip time (they recur every loop).

`C03:drop@30+8`       the stream ends (RTSP server sends EOS/BYE) and the camera refuses
                      connections for 8 s from 30 s into each loop (applied by the server)
`C03:corrupt@10+5`    bytes of the H.264 slices garbled for 5 s (applied by the server)
`C03:freeze@20+5`     the picture freezes for 5 s while the stream goes on (baked into the clip)
`C03:resize@40+10:640x360`  those 10 s are encoded at 640×360, each switch at a new IDR with its
                      own SPS (baked into the clip)

The traffic of a clip keeps out of drop and freeze windows (and a few seconds after a drop, for
the reconnect), so no pass in the ground truth is one a healthy worker could not see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("drop", "corrupt", "freeze", "resize")
SERVER_KINDS = ("drop", "corrupt")  # applied by anpr/simulator/rtsp_server.py on the wire
BLOCKING_KINDS = ("drop", "freeze")  # no pass is scheduled in these
RECONNECT_ALLOWANCE_S = 6.0  # after a drop: worker back-off (≤ 2 s) + wait for an IDR (≤ GOP)

_SPEC = re.compile(
    r"^(?P<cam>[A-Za-z0-9_-]+):(?P<kind>[a-z]+)@(?P<at>[0-9.]+)\+(?P<dur>[0-9.]+)"
    r"(?::(?P<w>\d+)x(?P<h>\d+))?$"
)


class FaultError(ValueError):
    pass


@dataclass(frozen=True)
class Fault:
    kind: str
    at_s: float
    duration_s: float
    size: tuple[int, int] | None = None  # resize only

    @property
    def end_s(self) -> float:
        return self.at_s + self.duration_s

    def as_dict(self) -> dict[str, object]:
        row: dict[str, object] = {"kind": self.kind, "at_s": self.at_s, "duration_s": self.duration_s}
        if self.size is not None:
            row["size"] = list(self.size)
        return row

    @classmethod
    def from_dict(cls, row: dict[str, object]) -> Fault:
        size = row.get("size")
        return cls(
            str(row["kind"]),
            float(row["at_s"]),
            float(row["duration_s"]),  # type: ignore[arg-type]
            tuple(size) if isinstance(size, list) else None,
        )  # type: ignore[arg-type]

    def blocked(self) -> tuple[float, float] | None:
        """The clip span in which no pass may be in view, or None."""
        if self.kind == "drop":
            return self.at_s, self.end_s + RECONNECT_ALLOWANCE_S
        if self.kind == "freeze":
            return self.at_s, self.end_s
        return None


def parse_fault(text: str) -> tuple[str, Fault]:
    """`CAM:KIND@AT+DURATION[:WxH]` → (camera id, fault)."""
    m = _SPEC.match(text.strip())
    if m is None:
        raise FaultError(f"bad fault {text!r}: want CAM:KIND@SECONDS+SECONDS[:WxH], e.g. C03:drop@30+8")
    kind = m["kind"]
    if kind not in KINDS:
        raise FaultError(f"bad fault kind {kind!r}: one of {', '.join(KINDS)}")
    size = (int(m["w"]), int(m["h"])) if m["w"] else None
    if (kind == "resize") != (size is not None):
        raise FaultError(f"{text!r}: resize needs :WxH, and only resize takes one")
    if size is not None and (size[0] % 2 or size[1] % 2):
        raise FaultError(f"{text!r}: H.264 4:2:0 needs an even width and height")
    fault = Fault(kind, float(m["at"]), float(m["dur"]), size)
    if fault.duration_s <= 0:
        raise FaultError(f"{text!r}: the duration must be positive")
    return m["cam"], fault


def check_faults(faults: list[Fault], duration_s: float) -> None:
    for f in faults:
        if f.end_s > duration_s:
            raise FaultError(f"{f.kind}@{f.at_s}+{f.duration_s} ends after the clip ({duration_s} s)")
