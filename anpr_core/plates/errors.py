from __future__ import annotations


class InvalidPlate(ValueError):
    """A string that is not a Korean plate; ``reason`` says why in words a person can act on."""

    def __init__(self, raw: str, reason: str) -> None:
        super().__init__(f"{raw!r} is not a valid plate: {reason}")
        self.raw = raw
        self.reason = reason


class InvalidPattern(ValueError):
    """A search or watchlist pattern that cannot be used; ``reason`` says why."""

    def __init__(self, raw: str, reason: str) -> None:
        super().__init__(f"{raw!r} is not a valid plate pattern: {reason}")
        self.raw = raw
        self.reason = reason
