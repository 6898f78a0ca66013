"""Random valid plates with a realistic mix, for synthetic images, the simulator and tests."""

from __future__ import annotations

import random
from typing import TypeVar

from anpr_core.plates.alphabet import DIPLOMATIC_PREFIXES, REGIONS, USE_CHARS_BY_USE, PlateUse
from anpr_core.plates.grammar import Plate, PlateFormat, parse_plate

# Share of each format on the road today: most cars carry 2006+ or 2019+ national plates.
FORMAT_WEIGHTS: dict[PlateFormat, float] = {
    PlateFormat.NEW8: 0.40,
    PlateFormat.OLD7: 0.42,
    PlateFormat.REGIONAL: 0.16,
    PlateFormat.DIPLOMATIC: 0.02,
}
USE_WEIGHTS: dict[PlateUse, float] = {
    PlateUse.PRIVATE: 0.78,
    PlateUse.COMMERCIAL: 0.10,
    PlateUse.RENTAL: 0.08,
    PlateUse.DELIVERY: 0.03,
    PlateUse.MILITARY: 0.01,
}


T = TypeVar("T")


def _choose(rng: random.Random, weights: dict[T, float]) -> T:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys], k=1)[0]


def random_plate(rng: random.Random, fmt: PlateFormat | None = None, use: PlateUse | None = None) -> Plate:
    fmt = fmt or _choose(rng, FORMAT_WEIGHTS)
    if fmt is PlateFormat.DIPLOMATIC:
        text = f"{rng.choice(DIPLOMATIC_PREFIXES)}{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}"
        return parse_plate(text)
    if use is None or use is PlateUse.DIPLOMATIC:
        use = _choose(rng, USE_WEIGHTS)
    use_char = rng.choice(USE_CHARS_BY_USE[use])
    serial = f"{rng.randint(0, 9999):04d}"
    if fmt is PlateFormat.NEW8:
        head = f"{rng.randint(100, 699) if rng.random() < 0.85 else rng.randint(700, 997)}"
    elif fmt is PlateFormat.OLD7:
        head = f"{rng.randint(1, 69) if rng.random() < 0.85 else rng.randint(70, 99):02d}"
    else:
        digits = rng.randint(1, 99)
        head = f"{rng.choice(REGIONS)}{digits if rng.random() < 0.1 and digits < 10 else f'{digits:02d}'}"
    return parse_plate(f"{head}{use_char}{serial}")
