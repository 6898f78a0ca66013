"""Camera simulator: synthetic ANPR feeds with known ground truth, served over HTTP MJPEG."""
