"""YAML, from the event stream (libyaml when present): positions, duplicates, bounds."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

from ..core.document import YAML11_BOOLEAN_WORDS, Positions, Tokens
from ..core.issues import Issue
from .common import Limits, ParseError, duplicate_issue, too_long_number

__all__ = ["read_yaml"]

_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_SPECIAL_FLOATS = {
    ".inf": float("inf"),
    "+.inf": float("inf"),
    "-.inf": float("-inf"),
    ".nan": float("nan"),
}
_DATE = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ].*)?")
_SEXAGESIMAL = re.compile(r"[-+]?[0-9]+(:[0-5]?[0-9])+(\.[0-9]*)?")
_CORE_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


def _plain_scalar(text: str) -> tuple[Any, str | None]:
    """A plain scalar under YAML 1.2 core rules, and a note where YAML 1.1 differs."""
    if text in _NULLS:
        return None, None
    if text in _TRUE:
        return True, None
    if text in _FALSE:
        return False, None
    first = text[0]
    if first.isdigit() or first in "+-.":
        if _INT.fullmatch(text):
            digits = text.lstrip("+-")
            if len(digits) > 1 and digits[0] == "0":
                return text, (
                    f'the bare word {text} is kept as the string "{text}" '
                    "(YAML 1.1 reads it as an octal number); quote it to be clear"
                )
            return int(text), None
        if text[:2] in ("0o", "0x"):
            try:
                return int(text[2:], 8 if text[1] == "o" else 16), None
            except ValueError:
                return text, None
        if _FLOAT.fullmatch(text):
            note = None
            if "e" in text.lower() and "." not in text:
                note = (
                    f"the bare word {text} was read as the number {float(text)!r} "
                    "(YAML 1.1 reads it as a string); quote it if you meant text"
                )
            return float(text), note
        if text.lower() in _SPECIAL_FLOATS:
            return _SPECIAL_FLOATS[text.lower()], None
        if _DATE.fullmatch(text):
            return text, (
                f'the bare word {text} is kept as the string "{text}" (YAML 1.1 reads it as a date)'
            )
        if _SEXAGESIMAL.fullmatch(text):
            return text, (
                f'the bare word {text} is kept as the string "{text}" '
                "(YAML 1.1 reads it as a base-60 number)"
            )
        return text, None
    if text.lower() in YAML11_BOOLEAN_WORDS:
        return text, (
            f'the bare word {text} is kept as the string "{text}" '
            "(YAML 1.1 reads it as a boolean); write true or false for a boolean"
        )
    return text, None


def _tagged_scalar(tag: str, text: str, line: int, column: int) -> Any:
    try:
        if tag == "tag:yaml.org,2002:str":
            return text
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            if text.lower() in ("true", "false"):
                return text.lower() == "true"
            raise ValueError
        if tag == "tag:yaml.org,2002:int":  # YAML 1.2: 017 is 17, 0o17 is 15, 0x1F is 31
            return int(text) if _INT.fullmatch(text) else int(text, 0)
        if tag == "tag:yaml.org,2002:float":
            return float(text)
    except ValueError:
        raise ParseError(
            f"the value is not a valid {tag.rpartition(':')[2]} for its tag", line, column
        ) from None
    raise ParseError(
        f"unsupported YAML tag {tag}", line, column, "only plain data is read; remove the tag"
    )


_PLAIN = "tag:streamkap-config,plain"  # what our resolver gives an untagged plain scalar


@functools.cache
def _loader_class(yaml: Any) -> Any:
    """libyaml's loader, with a resolver that leaves plain scalars to YAML 1.2 rules.

    The C composer builds the node tree (with marks) in C; only tag resolution
    calls back into Python, and ours just marks plain scalars for
    :func:`_plain_scalar`: PyYAML would read them by YAML 1.1 rules.
    """
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    scalar_node, sequence_node = yaml.ScalarNode, yaml.SequenceNode

    def resolve(self: Any, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is scalar_node:
            return _PLAIN if implicit[0] else "tag:yaml.org,2002:str"
        return "tag:yaml.org,2002:seq" if kind is sequence_node else "tag:yaml.org,2002:map"

    # The composer calls these around every node to follow path resolvers, which this
    # loader has none of: builtins that take the same arguments do nothing, in C.
    return type(
        "Loader",
        (base,),
        {"resolve": resolve, "descend_resolver": slice, "ascend_resolver": tuple},
    )


class _Builder:
    """One YAML document's node tree -> data, positions, notes and duplicate keys.

    Aliases share the anchored node: its value is built once and reused (as
    PyYAML does), and its size counts against the node budget each time.
    """

    def __init__(self, yaml: Any, limits: Limits, aliases: bool) -> None:
        self.mapping, self.sequence = yaml.MappingNode, yaml.SequenceNode
        # False when the text holds no "*": no alias can reuse a node, nothing to remember.
        self.aliases = aliases
        self.limits = limits
        self.positions = Positions()
        self.dups: list[Issue] = []
        self.nodes = 0
        self.built: dict[int, tuple[Any, int]] = {}  # node id -> (value, size)
        self.open: set[int] = set()  # collections being built (a recursive alias)

    def count(self, size: int, mark: Any) -> None:
        self.nodes += size
        if self.nodes > self.limits.max_nodes:
            raise ParseError(
                f"the document expands to over {self.limits.max_nodes:,} nodes",
                mark.line + 1,
                mark.column + 1,
                "aliases that multiply content (a 'billion laughs' file) are refused",
            )

    def value(self, node: Any, tokens: Tokens, depth: int) -> tuple[Any, int]:
        """The value of ``node`` and its size in nodes (counted against the budget)."""
        mark = node.start_mark
        line, column = mark.line + 1, mark.column + 1
        self.positions.values.setdefault(tokens, (line, column))
        if self.aliases:
            seen = self.built.get(id(node))
            if seen is not None:  # an alias: the same value again
                self.count(seen[1], mark)
                return seen
            if id(node) in self.open:
                raise ParseError("an alias refers to the collection it stands in", line, column)
        cls = node.__class__
        if cls is not self.mapping and cls is not self.sequence:
            self.count(1, mark)  # an alias to a scalar reads it again: the same value
            return self.scalar(node, tokens, line, column), 1
        if node.tag not in _CORE_TAGS:
            raise ParseError(
                f"unsupported YAML tag {node.tag}",
                line,
                column,
                "only plain data is read; remove the tag",
            )
        if depth >= self.limits.max_depth:
            raise ParseError(f"nesting deeper than {self.limits.max_depth} levels", line, column)
        self.count(1, mark)
        if self.aliases:
            self.open.add(id(node))
        if cls is self.sequence:
            items = []
            size = 1
            for n, child in enumerate(node.value):
                item, cost = self.value(child, (*tokens, str(n)), depth + 1)
                items.append(item)
                size += cost
            built: tuple[Any, int] = (items, size)
        else:
            built = self.mapping_value(node, tokens, depth)
        if self.aliases:  # built: an alias to it now finds it before asking if it is open
            self.built[id(node)] = built
        return built

    def scalar(self, node: Any, tokens: Tokens, line: int, column: int) -> Any:
        tag = node.tag
        try:
            if tag == _PLAIN:
                value, note = _plain_scalar(node.value)
                if note is not None and tokens:
                    self.positions.notes[tokens] = note
                return value
            return _tagged_scalar(tag, node.value, line, column)
        except ValueError as exc:  # an integer past Python's digit limit
            raise ParseError(too_long_number(exc), line, column) from None

    def mapping_value(self, node: Any, tokens: Tokens, depth: int) -> tuple[Any, int]:
        container: dict[str, Any] = {}
        merged: set[str] = set()
        size = 1
        keys = self.positions.keys
        for key_node, value_node in node.value:
            mark = key_node.start_mark
            line, column = mark.line + 1, mark.column + 1
            kind = key_node.__class__
            if kind is self.mapping or kind is self.sequence:
                if id(key_node) in self.built:
                    raise ParseError("an alias used as a key must name a string", line, column)
                raise ParseError("a mapping or list cannot be a key", line, column)
            key = key_node.value
            if key == "<<" and key_node.tag == _PLAIN:
                value, cost = self.value(value_node, (*tokens, key), depth + 1)
                size += cost
                vmark = value_node.start_mark
                for source in value if isinstance(value, list) else [value]:
                    if not isinstance(source, dict):
                        raise ParseError(
                            "a merge key (<<) needs a mapping or a list of mappings",
                            vmark.line + 1,
                            vmark.column + 1,
                        )
                    for k, v in source.items():
                        if k not in container:
                            container[k] = v
                            merged.add(k)
                continue
            here = (*tokens, key)
            if key in container and key not in merged:
                self.dups.append(duplicate_issue(here, keys.get(here), line, column))
                continue  # the first value stays; the repeated one is dropped
            merged.discard(key)
            keys.setdefault(here, (line, column))
            container[key], cost = self.value(value_node, here, depth + 1)
            size += cost
        return container, size


def may_hold_aliases(text: str) -> bool:
    """False when no alias can reuse a node: the text holds no ``*``."""
    return "*" in text


def read_yaml(text: str, limits: Limits) -> Iterator[tuple[Any, Positions, list[Issue]]]:
    import yaml

    loader = _loader_class(yaml)(text)
    result: list[tuple[Any, Positions, list[Issue]]] = []
    aliases = may_hold_aliases(text)  # once a file: once a document made it quadratic
    try:
        while loader.check_node():
            if len(result) >= limits.max_documents:
                raise ParseError(
                    f"more than {limits.max_documents:,} YAML documents in one file",
                    hint="split the file",
                )
            builder = _Builder(yaml, limits, aliases=aliases)
            data, _ = builder.value(loader.get_node(), (), 0)
            result.append((data, builder.positions, builder.dups))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "the parser gave no reason"
        raise _explain_yaml_error(text, problem, line, column) from None
    except yaml.YAMLError as exc:
        raise ParseError(f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    return iter(result)


_KEY_LINE = re.compile(r"^( *)(-\s+)?([^\s#:][^#:]*?)\s*:(\s|$)")


def _indent(key: re.Match[str]) -> int:
    return len(key.group(1) + (key.group(2) or ""))


def _spaces(n: int) -> str:
    return f"{n} space" if n == 1 else f"{n} spaces"


def _explain_yaml_error(text: str, problem: str, line: int, column: int) -> ParseError:
    """libyaml's complaint, said in terms of what the user did: tabs, a stray indent."""
    lines = text.split("\n")
    here = lines[line - 1] if line <= len(lines) else ""
    indent = here[: len(here) - len(here.lstrip(" \t"))]
    if "\t" in indent or here[column - 1 : column] == "\t":
        tab = here.index("\t") + 1 if "\t" in here else column
        return ParseError(
            "invalid YAML: a tab in indentation (YAML does not allow tabs for indentation)",
            line,
            tab,
            "indent with spaces",
        )
    key = _KEY_LINE.match(here)
    if key is not None and problem in (
        "did not find expected key",
        "mapping values are not allowed in this context",
        "did not find expected '-' indicator",
    ):
        for before in reversed(range(line - 1)):
            sibling = _KEY_LINE.match(lines[before])
            if sibling is None:
                if lines[before].strip() and not lines[before].lstrip().startswith("#"):
                    break
                continue
            # A key after "- " stands where its dash ends: "- a:" is indented 2 spaces.
            mine, theirs = _indent(key), _indent(sibling)
            if mine == theirs:
                break
            return ParseError(
                f"invalid YAML: the key {key.group(3)} is indented {_spaces(mine)}, which does "
                f"not match its siblings (the key {sibling.group(3)} on line {before + 1} "
                f"is indented {_spaces(theirs)})",
                line,
                mine + 1,
                "give every key of one mapping the same indentation",
            )
    return ParseError(f"invalid YAML: {problem}", line, column)
