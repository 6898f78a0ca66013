"""The RTSP server's feeder (run by Debian's python3, as the server is) waits for its appsrc to
start before pushing: a buffer pushed into a media that has not started is refused as FLUSHING,
which the feeder takes for a stopped media. It used to push at once, lose that race now and then,
and quit: the camera's first client then stalled until its timeout (seen on loaded CI runs)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from anpr.simulator.rtsp import SERVER_SCRIPT, SYSTEM_PYTHON

pytestmark = pytest.mark.skipif(not Path(SYSTEM_PYTHON).is_file(), reason="Debian python3 (scripts/setup)")

PROBE = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import rtsp_server
from gi.repository import Gst

class NotYetStartedAppSrc:
    started = False
    pushed = 0
    def emit(self, signal, *args):
        if signal != "push-buffer":
            return None
        if not self.started:
            return Gst.FlowReturn.FLUSHING
        self.pushed += 1
        return Gst.FlowReturn.OK

Gst.init(None)
clip = rtsp_server.Clip({"clip": sys.argv[2], "index": sys.argv[3], "fps": 12.0})
src = NotYetStartedAppSrc()
feeder = rtsp_server.Feeder("C01", clip, time.time(), src)
feeder.start()
time.sleep(0.3)                      # the media is still being prepared
pushed_early = src.pushed
src.started = True
feeder.started.set()                 # what appsrc's first need-data does
time.sleep(0.5)
alive = feeder.is_alive()
feeder.stop.set()
print(json.dumps({"pushed_early": pushed_early, "pushed": src.pushed, "alive": alive}))
"""


def test_the_feeder_waits_for_its_media_to_start_and_then_streams(tmp_path: Path) -> None:
    units = [b"\x00\x00\x00\x01\x65" + bytes([k]) * 20 for k in range(24)]  # one GOP of 2 s
    clip, index = tmp_path / "c.h264", tmp_path / "c.index.json"
    clip.write_bytes(b"".join(units))
    offsets = [sum(len(u) for u in units[:k]) for k in range(len(units) + 1)]
    index.write_text(json.dumps({"offsets": offsets, "keyframes": [0]}))
    out = subprocess.run(
        [SYSTEM_PYTHON, "-c", PROBE, str(SERVER_SCRIPT.parent), str(clip), str(index)],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["pushed_early"] == 0
    # Started: the current GOP at once (from its IDR to the present picture), then the live pace.
    assert seen["pushed"] >= 1 and seen["alive"], seen
