"""k-anonymity of a research extract by generalisation and suppression.

Each quasi-identifier has a coarser level (age bands merged, counties into the three lands,
years into two-year periods; gender has none). The schemes are tried from the finest: the
first whose equivalence classes smaller than K hold at most MAX_SUPPRESSED of the records
wins, and those records are left out. If none does, the extract is refused with the figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product

K = 5
MAX_SUPPRESSED = 0.15

_WIDER_AGE = {
    "0-17": "0-20",
    "18-20": "0-20",
    "21-24": "21-29",
    "25-29": "21-29",
    "30-39": "30+",
    "40+": "30+",
}
_NORRLAND = {"Gävleborg", "Västernorrland", "Jämtland", "Västerbotten", "Norrbotten"}
_SVEALAND = {"Stockholm", "Uppsala", "Södermanland", "Värmland", "Örebro", "Västmanland", "Dalarna"}


def _land(county: str) -> str:
    name = county.removesuffix(" län")
    if name not in _NORRLAND | _SVEALAND and name.endswith("s"):
        name = name[:-1]  # the genitive of "Stockholms län"
    if not county:
        return county
    if name in _NORRLAND:
        return "Norrland"
    return "Svealand" if name in _SVEALAND else "Götaland"


def _two_years(year: str) -> str:
    if not year.isdigit():
        return year
    start = int(year) - int(year) % 2
    return f"{start}-{start + 1}"


COARSER = {
    "age_band": lambda value: _WIDER_AGE.get(value, value),
    "region": _land,
    "year": _two_years,
}
LEVEL_NAMES = {"age_band": "bredare åldersgrupper", "region": "landsdel", "year": "tvåårsperioder"}


class TooIdentifying(Exception):
    """More than MAX_SUPPRESSED of the records would have to be left out."""


@dataclass(frozen=True)
class Anonymised:
    rows: list[dict[str, str]]
    suppressed: int
    coarsened: tuple[str, ...]  # the quasi-identifiers given at the coarser level


def k_anonymise(rows: Sequence[dict[str, str]], quasi: Sequence[str]) -> Anonymised:
    coarsenable = [q for q in quasi if q in COARSER]
    schemes = sorted(product((False, True), repeat=len(coarsenable)), key=sum)
    best = None
    for scheme in schemes:
        coarsened = tuple(q for q, coarse in zip(coarsenable, scheme, strict=True) if coarse)
        shaped = [_coarsen(row, coarsened) for row in rows]
        sizes = Counter(tuple(row[q] for q in quasi) for row in shaped)
        kept = [row for row in shaped if sizes[tuple(row[q] for q in quasi)] >= K]
        suppressed = len(rows) - len(kept)
        if best is None or suppressed < best.suppressed:
            best = Anonymised(kept, suppressed, coarsened)
        if suppressed <= MAX_SUPPRESSED * len(rows) and kept:
            return Anonymised(kept, suppressed, coarsened)
    share = best.suppressed / len(rows) if rows else 1.0
    coarser = ", ".join(LEVEL_NAMES[q] for q in coarsenable) or "grövre indelning"
    raise TooIdentifying(
        f"Uttaget skulle behöva utelämna {best.suppressed} av {len(rows)} poster "
        f"({share * 100:.0f} %) för att varje kombination av {', '.join(quasi)} ska gälla "
        f"minst {K} personer, även med {coarser}. Gränsen är {MAX_SUPPRESSED * 100:.0f} %: "
        "begär färre variabler eller en större population."
    )


def _coarsen(row: dict[str, str], coarsened: tuple[str, ...]) -> dict[str, str]:
    return {key: COARSER[key](value) if key in coarsened else value for key, value in row.items()}
