"""A small CRNN for Korean plates: conv features → two rows read in order → BiLSTM → CTC.

The feature map is pooled to two rows; the sequence is the top row followed by the bottom row,
so a two-line plate (region + class above, use character + serial below) is read in order, and
a one-line plate is read wherever the network finds it.
"""

from __future__ import annotations

import torch
from torch import nn


def _block(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class PlateCRNN(nn.Module):
    def __init__(self, num_classes: int, hidden: int = 96) -> None:
        super().__init__()
        self.features = nn.Sequential(
            *_block(1, 16), nn.MaxPool2d(2),  # 24×80
            *_block(16, 32), nn.MaxPool2d(2),  # 12×40
            *_block(32, 64), *_block(64, 64), nn.MaxPool2d((2, 1)),  # 6×40
            *_block(64, 96), *_block(96, 96), nn.MaxPool2d((3, 1)),  # 2×40
            *_block(96, 128),
        )  # fmt: skip
        self.rnn = nn.LSTM(128, hidden, bidirectional=True, batch_first=True)
        self.classifier = nn.Linear(2 * hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: N×1×48×160 in [-1, 1] → log-probabilities N×T×C (T = 80)."""
        f = self.features(x)  # N×128×2×40
        n, c, h, w = f.shape
        seq = f.permute(0, 2, 3, 1).reshape(n, h * w, c)  # top row, then bottom row
        out, _ = self.rnn(seq)
        return self.classifier(out).log_softmax(-1)
