"""Key expansion: every way users write a key -> the API's canonical dotted key.

Resolution order for one flat key (DESIGN §3): the exact API name; a match once
a ``.user.defined`` / ``.user.displayed`` suffix is dropped from either side;
the Terraform attribute name; a declared deprecated alias.

>>> from streamkap_config import bundled_schemas
>>> index = KeyIndex.for_definition(bundled_schemas()["postgresql"].definition)
>>> index.resolve("database.hostname"), index.resolve("database_port")
('database.hostname.user.defined', 'database.port.user.defined')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..core.records import record
from ..schemas.definitions import SUFFIXES, ConnectorDefinition, strip_suffix

__all__ = ["Ambiguous", "Entry", "KeyIndex", "flatten"]


@record(frozen=True)
class Ambiguous:
    """A spelling that matches several canonical keys equally well."""

    candidates: tuple[str, ...]


# Deeper mappings are values (and fail their check): no key has this many parts, and
# a mapping that contains itself must not recurse forever.
MAX_DEPTH = 64

# One key as the user wrote it: (flat dotted form, path tokens, value).
Entry = tuple[str, tuple[str, ...], Any]


class KeyIndex:
    """Every accepted spelling of a connector's keys, resolved in one dict lookup."""

    def __init__(self, definition: ConnectorDefinition) -> None:
        self.definition = definition
        levels: list[dict[str, set[str]]] = [{}, {}, {}, {}]
        for prop in definition.properties:
            name = prop.name
            levels[0].setdefault(name, set()).add(name)
            base = strip_suffix(name)
            for variant in (base, *(base + s for s in SUFFIXES)):
                levels[1].setdefault(variant, set()).add(name)
            if prop.terraform_attribute:
                levels[2].setdefault(prop.terraform_attribute, set()).add(name)
            for alias in prop.aliases:
                levels[3].setdefault(alias, set()).add(name)
        table: dict[str, str | Ambiguous] = {}
        # Lower levels first, so a better level overwrites a worse one.
        for level in reversed(levels):
            for spelling, names in level.items():
                if len(names) == 1:
                    table[spelling] = next(iter(names))
                else:
                    table[spelling] = Ambiguous(tuple(sorted(names)))
        self.table: Mapping[str, str | Ambiguous] = table
        self._memo: dict[tuple[str, int], tuple[str, ...]] = {}
        self._grams: list[tuple[str, frozenset[str]]] | None = None  # on the first typo

    _cache: ClassVar[dict[tuple[str, str], KeyIndex]] = {}

    @classmethod
    def for_definition(cls, definition: ConnectorDefinition) -> KeyIndex:
        """The index of ``definition``, built once per connector version."""
        key = (definition.code, definition.version)
        index = cls._cache.get(key)
        if index is None:
            index = cls._cache[key] = cls(definition)
        return index

    def lookup(self, flat: str) -> str | Ambiguous | None:
        """The canonical key for ``flat``, an :class:`Ambiguous`, or None."""
        return self.table.get(flat)

    def resolve(self, flat: str) -> str | None:
        """The canonical key for ``flat`` when it is unambiguous, else None."""
        found = self.table.get(flat)
        return found if isinstance(found, str) else None

    def suggest(self, flat: str, limit: int = 3) -> list[str]:
        """Up to ``limit`` accepted spellings close to ``flat``, best first.

        Candidates are ranked by shared character pairs; answers are memoised,
        since one typo tends to recur across the files of a repository.
        """
        memo_key = (flat, limit)
        found = self._memo.get(memo_key)
        if found is None:
            found = self._suggest(flat, limit)
            if len(self._memo) > 4096:
                self._memo.clear()
            self._memo[memo_key] = found
        return list(found)

    def _suggest(self, flat: str, limit: int) -> tuple[str, ...]:
        # Similarity is the Dice coefficient of character pairs: set operations in C,
        # as good as difflib's ratio for key names, and several times faster.
        if self._grams is None:  # built on the first unknown key: most runs have none
            props = self.definition.properties
            spellings = sorted(
                {p.name for p in props}
                | {strip_suffix(p.name) for p in props}
                | {p.terraform_attribute for p in props if p.terraform_attribute}
            )
            self._grams = [(s, _bigrams(s.lower())) for s in spellings]
        import heapq  # here: a run without an unknown key never needs it

        grams = _bigrams(flat.lower())
        size = len(grams) or 1
        scored = heapq.nlargest(
            4 * limit,
            ((2 * len(grams & g) / (size + (len(g) or 1)), s) for s, g in self._grams),
        )
        best = scored[0][0] if scored else 0.0
        # One suggestion per canonical key: the closest spelling of it.
        seen: set[str] = set()
        result = []
        for score, spelling in scored:
            if score < 0.55 or score < best - 0.3:
                break
            target = self.table.get(spelling)
            canonical = target if isinstance(target, str) else spelling
            if canonical not in seen:
                seen.add(canonical)
                result.append(spelling)
        return tuple(result[:limit])


def _bigrams(text: str) -> frozenset[str]:
    return frozenset(text[i : i + 2] for i in range(len(text) - 1))


def flatten(
    mapping: Mapping[str, Any], index: KeyIndex, tokens: tuple[str, ...] = ()
) -> list[Entry]:
    """Flatten nested mappings into dotted keys, in document order.

    A nested mapping is a namespace, except when its own path resolves to a key
    and no path under it does: then it is that key's value (and later gets the
    type check of that key).
    """
    entries: list[Entry] = []
    _walk(mapping, "", tokens, index.table, entries)
    return entries


def _walk(
    mapping: Mapping[str, Any],
    prefix: str,
    tokens: tuple[str, ...],
    table: Mapping[str, Any],
    out: list[Entry],
) -> None:
    for key, value in mapping.items():
        k = key if key.__class__ is str else str(key)
        flat = f"{prefix}.{k}" if prefix else k
        if isinstance(value, dict) and len(tokens) < MAX_DEPTH:
            here = (*tokens, k)
            if flat in table:
                sub: list[Entry] = []
                _walk(value, flat, here, table, sub)
                if not any(e[0] in table for e in sub):
                    out.append((flat, here, value))
                    continue
                out.extend(sub)
            elif value:
                _walk(value, flat, here, table, out)
            else:
                out.append((flat, here, value))
        else:
            out.append((flat, (*tokens, k), value))
