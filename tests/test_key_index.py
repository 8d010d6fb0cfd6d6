"""Key resolution and close-name hints, exactly: which spelling wins at each level,
what a nested mapping flattens to, and which names a typo is offered (the Dice
coefficient of character pairs, its 0.55 floor and its 0.3 distance from the best)."""

from __future__ import annotations

import pytest

from streamkap_config.schemas.definitions import ConnectorDefinition, parse_definitions
from streamkap_config.validation.keys import MAX_DEPTH, Ambiguous, KeyIndex, _bigrams, flatten


def index_of(*props: dict) -> KeyIndex:
    raw = {"C": [{"value": {"control": "text"}, **p} for p in props]}
    return KeyIndex(parse_definitions(raw, code="c")[0])


def test_character_pairs():
    assert _bigrams("abc") == frozenset({"ab", "bc"})
    assert _bigrams("abab") == frozenset({"ab", "ba"})
    assert _bigrams("a") == frozenset() == _bigrams("")


def test_a_suffix_variant_wins_over_a_terraform_name_and_that_over_an_alias():
    index = index_of(
        {"name": "x.y.user.defined"},
        {"name": "other", "terraform_attribute": "x.y"},
        {"name": "tf.owner", "terraform_attribute": "t"},
        {"name": "alias.owner", "aliases": ["t"]},
    )
    assert index.resolve("x.y") == "x.y.user.defined"
    assert index.resolve("t") == "tf.owner"
    assert index.lookup("nope") is None and index.resolve("nope") is None


def test_an_ambiguous_spelling_is_looked_up_but_never_resolved():
    index = index_of({"name": "a.b"}, {"name": "a.b.user.defined"})
    assert index.lookup("a.b.user.displayed") == Ambiguous(("a.b", "a.b.user.defined"))
    assert index.resolve("a.b.user.displayed") is None
    assert index.resolve("a.b") == "a.b"


def test_one_index_per_connector_version():
    definition = parse_definitions({"C": [{"name": "k", "value": {"control": "text"}}]}, code="c")
    assert KeyIndex.for_definition(definition[0]) is KeyIndex.for_definition(definition[0])


def test_flatten_keeps_document_order_and_writes_non_text_keys_as_text():
    index = index_of({"name": "a.b"}, {"name": "c"})
    config = {"c": 1, "a": {"b": 2}, 7: "x", True: "y"}
    assert flatten(config, index, ("config",)) == [
        ("c", ("config", "c"), 1),
        ("a.b", ("config", "a", "b"), 2),
        ("7", ("config", "7"), "x"),
        ("True", ("config", "True"), "y"),
    ]


def test_a_mapping_is_a_value_where_its_path_is_a_key_and_nothing_under_it_is():
    index = index_of({"name": "a.b"}, {"name": "a.b.c"})
    assert flatten({"a": {"b": {"z": 1}}}, index) == [("a.b", ("a", "b"), {"z": 1})]
    assert flatten({"a": {"b": {"c": 1}}}, index) == [("a.b.c", ("a", "b", "c"), 1)]
    assert flatten({"a": {}}, index) == [("a", ("a",), {})]
    assert flatten({"a": {"b": {}}}, index) == [("a.b", ("a", "b"), {})]


def test_mappings_past_the_depth_bound_are_values():
    index = index_of({"name": "k"})
    deep: dict = {"leaf": 1}
    for _ in range(MAX_DEPTH + 5):
        deep = {"n": deep}
    ((flat, tokens, value),) = flatten(deep, index)
    assert len(tokens) == MAX_DEPTH + 1 and isinstance(value, dict)
    assert flat == ".".join(["n"] * (MAX_DEPTH + 1))


def pairs_text(shared: int, own: int, tail: str) -> tuple[str, str]:
    """Two texts of ``shared + own`` distinct character pairs each, ``shared`` in common."""
    common = "abcdefghijklmnopqrstuvwxyz"[: shared + 1]
    return common + "0123456789"[:own], common + tail[:own]


def test_the_floor_is_055_inclusive():
    flat, at_floor = pairs_text(11, 9, "!@#$%^&*()+")  # 2 * 11 / (20 + 20) = 0.55
    assert index_of({"name": at_floor}).suggest(flat) == [at_floor]
    flat, below = pairs_text(10, 10, "!@#$%^&*()+")  # 2 * 10 / (20 + 20) = 0.5
    assert index_of({"name": below}).suggest(flat) == []


def test_names_more_than_03_below_the_best_are_not_offered():
    index = index_of(
        {"name": "database.hostname"},
        {"name": "database.hostnames.list"},  # 0.86 to the typo below
        {"name": "hostname.alias"},  # 0.62: above the floor, yet 0.38 below the best
        {"name": "port"},
    )
    # Written in another case, the typo's pairs are those of database.hostname: 1.0.
    assert index.suggest("Database.Hostname") == ["database.hostname", "database.hostnames.list"]


def test_a_name_exactly_03_below_the_best_is_offered():
    # 14 of the typo's 16 pairs and 10 others: 2 * 14 / (16 + 24) = 0.7 = 1.0 - 0.3
    at_distance = "database.hostna!@#$%^&*()"
    index = index_of({"name": "database.hostname"}, {"name": at_distance})
    assert index.suggest("Database.Hostname") == ["database.hostname", at_distance]


def test_each_key_is_offered_once_by_its_closest_spelling_up_to_the_limit():
    index = index_of(
        {"name": "host.name.user.defined", "terraform_attribute": "host_name"},
        {"name": "host.names.user.defined"},
        {"name": "host.namer"},
    )
    assert index.suggest("hots.name") == ["host.name", "host.names", "host.namer"]
    assert index.suggest("hots.name", limit=1) == ["host.name"]
    assert index.suggest("host_nme") == ["host_name"]  # the others share 4 of 7 pairs: 0.53
    assert index.suggest("zzzz") == []


def test_different_typos_get_their_own_answers():
    index = index_of({"name": "alpha.key"}, {"name": "omega.key"})
    assert index.suggest("alpha.kee") == ["alpha.key"]
    assert index.suggest("omega.kee") == ["omega.key"]


def test_a_connector_without_keys_offers_nothing():
    empty = ConnectorDefinition("none", "None", (), raw={"None": []})
    assert KeyIndex(empty).suggest("anything") == []


@pytest.mark.parametrize("typo", ["a", ""])
def test_a_typo_too_short_for_a_pair_is_offered_nothing(typo):
    assert index_of({"name": "a.b"}).suggest(typo) == []


def test_three_names_at_most_by_default():
    index = index_of(*({"name": f"topic.prefix.{n}"} for n in range(5)))
    assert len(index.suggest("topic.prefix.")) == 3
    assert len(index.suggest("topic.prefix.", limit=5)) == 5
