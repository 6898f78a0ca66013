"""Motion gating: an idle camera's frame costs one tiny resize and a difference, not a detector call."""

from __future__ import annotations

import cv2
import numpy as np

from lpr.workers.feeds import DecodedFrame, Frame, JpegFrame


class MotionGate:
    def __init__(
        self, threshold: float = 0.004, pixel_delta: int = 18, size: tuple[int, int] = (96, 54)
    ) -> None:
        self.threshold, self.pixel_delta, self.size = threshold, pixel_delta, size
        self._background: np.ndarray | None = None

    def moving(self, frame: Frame) -> bool:
        """Whether the frame differs from the camera's background; a JPEG frame is looked at in
        a 1/4-scale grey decode, a corrupt one counts as no motion; a decoded H.264 frame in its
        subsampled luma plane (no colour conversion)."""
        if isinstance(frame, JpegFrame | DecodedFrame):
            grey = frame.small_grey()
            if grey is None:
                return False
            small = cv2.resize(grey, self.size, interpolation=cv2.INTER_AREA)
        else:
            small = cv2.cvtColor(
                cv2.resize(frame, self.size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY
            )
        small = small.astype(np.float32)
        if self._background is None or self._background.shape != small.shape:
            self._background = small
            return True
        changed = float((np.abs(small - self._background) > self.pixel_delta).mean())
        # A slow running average absorbs lighting drift (dusk, clouds) but not a passing vehicle.
        cv2.accumulateWeighted(small, self._background, 0.05)
        return changed >= self.threshold
