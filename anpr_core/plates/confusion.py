"""OCR-confusion model: what it costs to believe a read when the true plate differs.

Plate OCR confuses shapes, not letters at random: 0/8/6/9/3, 1/7, 2/7, 5/6 among digits, and
Hangul syllables that share a consonant or have a vowel stroke that flips (ㅓ/ㅏ, ㅗ/ㅜ). The
model is a symmetric substitution-cost table in [0, 1] (1 = unrelated), a weighted edit
distance over it, and a generator of the valid plates a read could really have been. Default
costs come from shape similarity; ``fit`` replaces them with costs from observed recogniser
errors (scripts/eval_recognizer feeds them back).
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
from collections.abc import Mapping
from pathlib import Path

from anpr_core.plates.alphabet import DIGITS, DIPLOMATIC_PREFIXES, REGIONS, USE_CHARS
from anpr_core.plates.grammar import try_parse_plate

DEFAULT_COSTS_FILE = Path(__file__).with_name("confusion_costs.json")
INDEL_COST = 1.0
# Most combinations one fuzzy search looks at: a few ms of CPU whatever the text (issue 22).
CANDIDATE_BUDGET = 3000


def _plate_shapes() -> dict[int, list[tuple[frozenset[str], ...]]]:
    """Per text length, the plate shapes: what each part allows (a character, or a region name)."""
    digit, use = frozenset(DIGITS), frozenset(USE_CHARS)
    region, prefix = frozenset(REGIONS), frozenset(DIPLOMATIC_PREFIXES)
    shapes = [
        (digit,) * 2 + (use,) + (digit,) * 4,  # OLD7
        (digit,) * 3 + (use,) + (digit,) * 4,  # NEW8
        (region, digit, use) + (digit,) * 4,  # REGIONAL, one class digit
        (region, digit, digit, use) + (digit,) * 4,  # REGIONAL, two class digits
        (prefix,) + (digit,) * 6,  # DIPLOMATIC
    ]
    out: dict[int, list[tuple[frozenset[str], ...]]] = {}
    for shape in shapes:
        out.setdefault(sum(len(next(iter(part))) for part in shape), []).append(shape)
    return out


_SHAPES = _plate_shapes()

_DIGIT_PAIRS: dict[tuple[str, str], float] = {
    ("0", "8"): 0.30, ("0", "6"): 0.40, ("0", "9"): 0.40, ("6", "8"): 0.35, ("8", "9"): 0.35,
    ("3", "8"): 0.35, ("3", "9"): 0.50, ("1", "7"): 0.30, ("2", "7"): 0.45, ("5", "6"): 0.40,
    ("5", "8"): 0.50, ("1", "4"): 0.60, ("6", "9"): 0.50, ("0", "3"): 0.60, ("2", "3"): 0.60,
    ("4", "9"): 0.60, ("0", "2"): 0.70, ("3", "5"): 0.55,
}  # fmt: skip

_INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_VOWELS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_SIMILAR_INITIALS = [set("ㄱㅋ"), set("ㄴㄷㄹㅌ"), set("ㅁㅂㅍ"), set("ㅅㅈㅊ"), set("ㅇㅎ")]
_SIMILAR_VOWELS = [set("ㅏㅓㅑㅕ"), set("ㅗㅜㅛㅠ"), set("ㅐㅔ")]


def _jamo(syllable: str) -> tuple[str, str] | None:
    code = ord(syllable) - 0xAC00
    if not 0 <= code < 11172:
        return None
    return _INITIALS[code // 588], _VOWELS[(code % 588) // 28]


def _similar(a: str, b: str, groups: list[set[str]]) -> bool:
    return any(a in group and b in group for group in groups)


def _hangul_cost(a: str, b: str) -> float:
    ja, jb = _jamo(a), _jamo(b)
    if ja is None or jb is None:
        return 1.0
    same_initial, same_vowel = ja[0] == jb[0], ja[1] == jb[1]
    similar_initial = same_initial or _similar(ja[0], jb[0], _SIMILAR_INITIALS)
    similar_vowel = same_vowel or _similar(ja[1], jb[1], _SIMILAR_VOWELS)
    if (same_initial and similar_vowel) or (same_vowel and similar_initial):
        return 0.35
    if similar_initial and similar_vowel:
        return 0.6
    if same_initial or same_vowel:
        return 0.8
    return 0.95


def default_costs() -> dict[tuple[str, str], float]:
    costs = dict(_DIGIT_PAIRS)
    for a, b in itertools.combinations(USE_CHARS, 2):
        costs[(a, b)] = _hangul_cost(a, b)
    return {(min(a, b), max(a, b)): cost for (a, b), cost in costs.items()}


class ConfusionModel:
    def __init__(self, costs: Mapping[tuple[str, str], float]) -> None:
        self._costs = {(min(a, b), max(a, b)): float(c) for (a, b), c in costs.items()}
        # Neighbours sorted by cost, for the candidate generator.
        self._neighbours: dict[str, list[tuple[str, float]]] = {}
        for (a, b), cost in self._costs.items():
            self._neighbours.setdefault(a, []).append((b, cost))
            self._neighbours.setdefault(b, []).append((a, cost))
        for options in self._neighbours.values():
            options.sort(key=lambda item: item[1])

    # ---- persistence -------------------------------------------------------------------
    @classmethod
    def default(cls) -> ConfusionModel:
        return cls(default_costs())

    @classmethod
    def load(cls, path: Path | None = None) -> ConfusionModel:
        """The fitted table shipped with the package (or `path`); shape defaults otherwise."""
        path = path or DEFAULT_COSTS_FILE
        if not path.is_file():
            return cls.default()
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls({(a, b): cost for a, b, cost in raw["substitutions"]})

    def save(self, path: Path, note: str = "") -> None:
        rows = [[a, b, round(c, 4)] for (a, b), c in sorted(self._costs.items())]
        path.write_text(json.dumps({"note": note, "substitutions": rows}, ensure_ascii=False, indent=0))

    # ---- costs -------------------------------------------------------------------------
    def substitution_cost(self, a: str, b: str) -> float:
        if a == b:
            return 0.0
        return self._costs.get((a, b) if a < b else (b, a), 1.0)

    def distance(self, a: str, b: str) -> float:
        """Weighted Levenshtein distance between two plate strings."""
        if a == b:
            return 0.0
        if len(a) == len(b):
            # Same length is the common case (a misread character): substitutions only is an
            # upper bound; the full DP below only runs when it could be beaten.
            subst = sum(self.substitution_cost(x, y) for x, y in zip(a, b, strict=True))
            if subst <= INDEL_COST:
                return subst
        previous = [float(j) * INDEL_COST for j in range(len(b) + 1)]
        for i, ca in enumerate(a, start=1):
            current = [i * INDEL_COST]
            for j, cb in enumerate(b, start=1):
                current.append(
                    min(
                        previous[j] + INDEL_COST,
                        current[j - 1] + INDEL_COST,
                        previous[j - 1] + self.substitution_cost(ca, cb),
                    )
                )
            previous = current
        return previous[-1]

    def candidates(
        self, text: str, max_cost: float = 1.0, limit: int = 50, budget: int = CANDIDATE_BUDGET
    ) -> list[tuple[str, float]]:
        """Valid plates reachable from `text` by cheap substitutions, cheapest first.

        `text` itself is included at cost 0 when it is a valid plate. Substitutions keep the
        length, so only the plate shapes of that length are tried, each part limited to what that
        shape allows there (a digit, a use character, a region name); a text that no shape fits
        within `max_cost` is refused before any enumeration. Plates are enumerated cheapest first
        (a best-first walk of the per-part options, each combination reached once) and at most
        `budget` combinations are looked at, so the work is bounded whatever the text and cost.
        """
        shapes = [
            options
            for allowed in _SHAPES.get(len(text), ())
            if (options := self._options(text, allowed, max_cost)) is not None
        ]
        if not shapes:
            return []
        found: dict[str, float] = {}
        # One heap over every shape: (cost, shape, option index per part, last part raised).
        heap: list[tuple[float, int, tuple[int, ...], int]] = [
            (sum(opts[0][1] for opts in options), number, (0,) * len(options), 0)
            for number, options in enumerate(shapes)
        ]
        heapq.heapify(heap)
        looked_at = 0
        while heap and len(found) < limit and looked_at < budget:
            cost, number, indices, last = heapq.heappop(heap)
            looked_at += 1
            options = shapes[number]
            plate = "".join(opts[i][0] for opts, i in zip(options, indices, strict=True))
            if plate not in found and try_parse_plate(plate) is not None:
                found[plate] = round(cost, 6)
            # Raising only parts >= the last one raised gives every combination one parent.
            for position in range(last, len(indices)):
                nxt = indices[position] + 1
                opts = options[position]
                if nxt < len(opts):
                    step = opts[nxt][1] - opts[nxt - 1][1]
                    if cost + step <= max_cost + 1e-9:
                        raised = (*indices[:position], nxt, *indices[position + 1 :])
                        heapq.heappush(heap, (cost + step, number, raised, position))
        valid = sorted(found.items(), key=lambda item: (item[1], item[0]))
        return valid[:limit]

    def _known_cost(self, read: str, name: str) -> float | None:
        total = 0.0
        for a, b in zip(read, name, strict=True):
            if a != b:
                cost = self._costs.get((a, b) if a < b else (b, a))
                if cost is None:
                    return None
                total += cost
        return total

    def could_be_plate(self, text: str, max_cost: float) -> bool:
        """Whether some plate shape fits `text` within `max_cost` (cheap: no enumeration)."""
        return any(
            self._options(text, allowed, max_cost) is not None for allowed in _SHAPES.get(len(text), ())
        )

    def _options(
        self, text: str, shape: tuple[frozenset[str], ...], max_cost: float
    ) -> list[list[tuple[str, float]]] | None:
        """Per part of the shape, what it allows within `max_cost`, cheapest first; None: nothing."""
        out: list[list[tuple[str, float]]] = []
        floor, start = 0.0, 0
        for allowed in shape:
            width = len(next(iter(allowed)))
            read = text[start : start + width]
            start += width
            if width == 1:
                opts = [(read, 0.0)] if read in allowed else []
                opts += [(other, cost) for other, cost in self._neighbours.get(read, ()) if other in allowed]
            else:
                # A region or diplomatic prefix is one part: only real names are combined, each
                # character the read or one of its table neighbours, as for single characters.
                opts = sorted(
                    (name, cost) for name in allowed if (cost := self._known_cost(read, name)) is not None
                )
                opts.sort(key=lambda item: item[1])
            opts = [item for item in opts if item[1] <= max_cost]
            if not opts:
                return None
            floor += opts[0][1]
            if floor > max_cost + 1e-9:
                return None
            out.append(opts)
        return out

    # ---- fitting -----------------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        pairs: Mapping[tuple[str, str], int],
        char_counts: Mapping[str, int],
        prior: ConfusionModel | None = None,
        floor: float = 0.05,
    ) -> ConfusionModel:
        """Costs from observed confusions: (true_char, read_char) → count.

        P(read b | true a) is estimated with add-one smoothing; cost = -log10(P) / 4, clipped to
        [floor, 1] (P = 0.1 → 0.25, P = 0.01 → 0.5). Pairs never observed keep the prior's cost,
        so a small evaluation set sharpens the table without forgetting the shape knowledge.
        """
        costs = dict((prior or cls.default())._costs)
        for (true_char, read_char), count in pairs.items():
            if true_char == read_char or count <= 0:
                continue
            seen = max(char_counts.get(true_char, 0), count)
            probability = (count + 1) / (seen + 2)
            fitted = min(1.0, max(floor, -math.log10(probability) / 4))
            key = (min(true_char, read_char), max(true_char, read_char))
            costs[key] = min(costs.get(key, 1.0), fitted)
        return cls(costs)
