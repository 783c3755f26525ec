"""The cast of the synthetic dataset: characters as fixed combinations of visual attributes.

The cast is built so that recognising a character takes several cues at once: every attribute value a
character has is shared with at least one other character, and characters come in look-alike pairs
that differ in exactly two attributes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

HAIR_COLORS = {
    "blonde": (245, 215, 110), "black": (40, 38, 48), "brown": (120, 74, 40), "red": (200, 50, 45),
    "blue": (70, 110, 215), "pink": (245, 150, 190), "silver": (200, 205, 215), "green": (80, 170, 90),
    "purple": (140, 80, 180), "orange": (245, 140, 50),
}
HAIR_STYLES = ("short", "long", "bob", "twintails", "ponytail", "spiky")
EYE_COLORS = {
    "blue": (40, 90, 220), "red": (200, 30, 40), "green": (40, 160, 70), "purple": (130, 50, 170),
    "yellow": (230, 190, 30), "brown": (110, 60, 30),
}
SKIN_TONES = {"pale": (255, 235, 225), "fair": (250, 215, 185), "tan": (215, 165, 120), "dark": (150, 100, 70)}
ACCESSORIES = ("none", "ribbon", "glasses", "hat", "hair_clip", "animal_ears")
EXPRESSIONS = ("neutral", "smile", "open_mouth", "closed_eyes")

ATTRIBUTES = {
    "hair_color": tuple(HAIR_COLORS),
    "hair_style": HAIR_STYLES,
    "eye_color": tuple(EYE_COLORS),
    "skin_tone": tuple(SKIN_TONES),
    "accessory": ACCESSORIES,
}

# Danbooru-style tags for each attribute value; "none" and "fair" skin add no tag, as on Danbooru.
STYLE_TAGS = {
    "short": ["short hair"], "long": ["long hair"], "bob": ["bob cut", "short hair"],
    "twintails": ["twintails", "long hair"], "ponytail": ["ponytail"], "spiky": ["spiked hair", "short hair"],
}
SKIN_TAGS = {"pale": ["pale skin"], "fair": [], "tan": ["tan"], "dark": ["dark skin"]}
ACCESSORY_TAGS = {
    "none": [], "ribbon": ["hair ribbon"], "glasses": ["glasses"], "hat": ["hat"],
    "hair_clip": ["hairclip"], "animal_ears": ["animal ears", "cat ears"],
}
EXPRESSION_TAGS = {"neutral": [], "smile": ["smile"], "open_mouth": [":d", "open mouth"],
                   "closed_eyes": ["closed eyes"]}

_FIRST = ("aoi", "hana", "yuki", "rin", "mio", "saki", "kana", "nori", "emi", "rei", "mika", "sora", "yui",
          "haru", "natsu", "aki", "fuyu", "kiri", "momo", "nene", "chika", "ran", "ume", "tomo")
_LAST = ("hoshino", "aozora", "kisaragi", "tachibana", "midori", "kagami", "shirai", "amane", "kurosaki",
         "hanazono", "tsukino", "asahina", "minase", "yukimura", "hayase", "morino")


@dataclass(frozen=True)
class Character:
    """One synthetic character: a name in Danbooru tag style and one value per attribute."""

    name: str
    hair_color: str
    hair_style: str
    eye_color: str
    skin_tone: str
    accessory: str

    def attributes(self) -> dict[str, str]:
        """Attribute name → value."""
        return {key: getattr(self, key) for key in ATTRIBUTES}

    def tags(self, expression: str = "neutral", show_accessory: bool = True) -> list[str]:
        """Danbooru-style general tags of one picture of this character."""
        tags = ["1girl", f"{self.hair_color} hair", f"{self.eye_color} eyes", *STYLE_TAGS[self.hair_style]]
        tags += SKIN_TAGS[self.skin_tone] + EXPRESSION_TAGS[expression]
        if show_accessory:
            tags += ACCESSORY_TAGS[self.accessory]
        return list(dict.fromkeys(tags))


def _differences(a: dict[str, str], b: dict[str, str]) -> int:
    return sum(a[k] != b[k] for k in ATTRIBUTES)


def _fits(candidate: dict[str, str], others: list[dict[str, str]]) -> bool:
    """A new character must differ from every other in at least two attributes."""
    return all(_differences(candidate, o) >= 2 for o in others if o is not candidate)


def _repair_unique_values(combos: list[dict[str, str]], rng: random.Random) -> None:
    """Make every attribute value that is used at all be used by at least two characters.

    A value held by one character alone is either handed to a second character or replaced by a value
    that others hold, whichever keeps every pair of characters at least two attributes apart.
    """
    for _ in range(10):
        changed = False
        for key in ATTRIBUTES:
            for combo in combos:
                holders = [c for c in combos if c[key] == combo[key]]
                if len(holders) > 1:
                    continue
                others = [c for c in combos if c is not combo]
                rng.shuffle(others)
                options = [(o, {**o, key: combo[key]}) for o in others]  # give the value to another one
                options += [(combo, {**combo, key: o[key]}) for o in others]  # or take another's value
                for target, candidate in options:
                    still_shared = sum(c[key] == target[key] for c in combos) > 2 or target is combo
                    if still_shared and _fits(candidate, [c for c in combos if c is not target]):
                        target[key] = candidate[key]
                        changed = True
                        break
        if not changed:
            return


def make_cast(no_classes: int, seed: int = 0) -> list[Character]:
    """Build ``no_classes`` distinct characters, deterministically for a given seed.

    Characters are drawn in pairs: a random base and a look-alike with exactly two attributes changed.
    """
    if no_classes < 2:
        raise ValueError("the synthetic cast needs at least 2 characters")
    rng = random.Random(seed)
    combos: list[dict[str, str]] = []
    while len(combos) < no_classes:
        base = {key: rng.choice(values) for key, values in ATTRIBUTES.items()}
        if not _fits(base, combos):
            continue
        combos.append(base)
        if len(combos) == no_classes:
            break
        for _ in range(100):
            changed = rng.sample(list(ATTRIBUTES), 2)
            twin = dict(base)
            for key in changed:
                twin[key] = rng.choice([v for v in ATTRIBUTES[key] if v != base[key]])
            if _fits(twin, combos):
                combos.append(twin)
                break
    _repair_unique_values(combos, rng)
    names: list[str] = []
    for i in range(no_classes):
        name = f"{_FIRST[i % len(_FIRST)]}_{_LAST[(i * 7 + i // len(_FIRST)) % len(_LAST)]}"
        names.append(name if name not in names else f"{name}_{i}")
    return [Character(name=n, **c) for n, c in zip(names, combos)]


def min_pair_difference(cast: list[Character]) -> int:
    """Smallest number of attributes in which two characters differ (2 for a cast from make_cast)."""
    attrs = [c.attributes() for c in cast]
    return min(_differences(a, b) for i, a in enumerate(attrs) for b in attrs[i + 1 :])
