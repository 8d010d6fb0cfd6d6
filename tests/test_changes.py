"""What a plan holds and how it reads: every line of ``Plan.format`` and every field of
``Plan.as_dict`` for each action, and the comparison laws of ``normal`` and ``same``."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamkap_config.deploy.changes import Change, KeyChange, Plan, json_safe, normal, same

CREATE = Change(
    "source",
    "orders-db",
    "create",
    None,
    shown=(("database.hostname", "db.example.com"), ("database.port", 5432)),
)
UPDATE = Change(
    "destination",
    "lake",
    "update",
    "d-1",
    keys=(KeyChange("s3.region", "us-east-1", "eu-west-1"), KeyChange("tasks.max", None, 2)),
    not_compared=("password",),
)
ROTATE = Change("source", "billing", "update", "s-2", not_compared=("password",), secrets=True)
NOOP = Change("transform", "mask", "no-op", "t-3", not_compared=("secret.key",))
BLOCKED = Change("source", "crm", "blocked", "s-4", blocked_by=("database.dbname",))
NEEDS = Change("pipeline", "orders-to-lake", "create", None, needs=("destination lake2",))
DELETE = Change("source", "old", "delete", "s-5", used_by=("pipeline a", "pipeline b\nx"))

PLAN = Plan(
    (CREATE, UPDATE, ROTATE, NOOP, BLOCKED, NEEDS, DELETE),
    warnings=("two live sources are named dup", "line\nbreak"),
    pruned=True,
)


def test_every_line_of_a_plan_with_every_action() -> None:
    assert PLAN.format().splitlines() == [
        "+ create source orders-db",
        '    database.hostname: "db.example.com"',
        "    database.port: 5432",
        "~ update destination lake (d-1)",
        '    s3.region: "us-east-1" -> "eu-west-1"',
        "    tasks.max: (absent) -> 2",
        "    password: secret: sent again, not compared",
        "~ update (secrets) source billing (s-2)",
        "    password: secret: sent again, not compared",
        "= no-op transform mask (t-3)",
        "! blocked source crm (s-4)",
        "    database.dbname: set once at creation; the API cannot change it",
        "+ create pipeline orders-to-lake",
        "    needs destination lake2: not live, and not among the files planned",
        "- delete source old (s-5)",
        "    not deleted: still used by pipeline a, pipeline b\\nx",
        "warning: two live sources are named dup",
        "warning: line\\nbreak",
        "2 to create, 2 to update, 1 unchanged, 1 blocked, 1 to delete",
    ]
    assert PLAN.format().endswith("to delete\n") and "\n\n" not in PLAN.format()


def test_verbose_names_every_secret_not_compared_and_a_plan_without_prune_counts_no_deletes():
    plan = Plan((NOOP, Change("source", "s", "create", None, not_compared=("pw",))))
    assert plan.format(verbose=True).splitlines() == [
        "= no-op transform mask (t-3)",
        "    secret.key: secret: not compared",
        "+ create source s",
        "    pw: secret: not compared",
        "1 to create, 0 to update, 1 unchanged, 0 blocked",
    ]
    assert "secret.key" not in plan.format()


def test_color_tints_each_action_as_validate_does() -> None:
    lines = PLAN.format(color=True).splitlines()
    heads = [line for line in lines if line.startswith("\033")]
    assert heads == [
        "\033[32m+ create source orders-db\033[0m",
        "\033[33m~ update destination lake (d-1)\033[0m",
        "\033[33m~ update (secrets) source billing (s-2)\033[0m",
        "\033[2m= no-op transform mask (t-3)\033[0m",
        "\033[31m! blocked source crm (s-4)\033[0m",
        "\033[32m+ create pipeline orders-to-lake\033[0m",
        "\033[31m- delete source old (s-5)\033[0m",
    ]
    assert "\033" not in PLAN.format()


def test_names_ids_and_values_from_servers_cannot_forge_a_line() -> None:
    change = Change("source", "a\nb", "update", "i\rd", keys=(KeyChange("k", "x\ny", "é"),))
    text = Plan((change,)).format()
    assert text.splitlines()[:2] == ["~ update source a\\nb (i\\rd)", '    k: "x\\ny" -> "é"']


def test_as_dict_holds_every_field() -> None:
    assert PLAN.as_dict() == {
        "changes": [
            {
                "kind": "source",
                "name": "orders-db",
                "action": "create",
                "id": None,
                "keys": [],
                "secrets": False,
                "needs": [],
                "used_by": [],
            },
            {
                "kind": "destination",
                "name": "lake",
                "action": "update",
                "id": "d-1",
                "keys": [
                    {"key": "s3.region", "before": "us-east-1", "after": "eu-west-1"},
                    {"key": "tasks.max", "before": None, "after": 2},
                ],
                "secrets": False,
                "needs": [],
                "used_by": [],
            },
            {
                "kind": "source",
                "name": "billing",
                "action": "update",
                "id": "s-2",
                "keys": [],
                "secrets": True,
                "needs": [],
                "used_by": [],
            },
            {
                "kind": "transform",
                "name": "mask",
                "action": "no-op",
                "id": "t-3",
                "keys": [],
                "secrets": False,
                "needs": [],
                "used_by": [],
            },
            {
                "kind": "source",
                "name": "crm",
                "action": "blocked",
                "id": "s-4",
                "keys": [],
                "secrets": False,
                "needs": [],
                "used_by": [],
            },
            {
                "kind": "pipeline",
                "name": "orders-to-lake",
                "action": "create",
                "id": None,
                "keys": [],
                "secrets": False,
                "needs": ["destination lake2"],
                "used_by": [],
            },
            {
                "kind": "source",
                "name": "old",
                "action": "delete",
                "id": "s-5",
                "keys": [],
                "secrets": False,
                "needs": [],
                "used_by": ["pipeline a", "pipeline b\nx"],
            },
        ],
        "warnings": ["two live sources are named dup", "line\nbreak"],
        "summary": {"create": 2, "update": 2, "no-op": 1, "blocked": 1, "delete": 1},
    }
    assert PLAN.has_changes and PLAN.deletes == [DELETE]
    assert not Plan((NOOP, BLOCKED)).has_changes


def test_a_value_no_json_can_hold_is_written_as_its_text() -> None:
    nan = float("nan")
    change = Change(
        "source", "s", "update", "1", keys=(KeyChange("k", [1.5, nan], {"a": -math.inf}),)
    )
    out = Plan((change,)).as_dict()
    assert out["changes"][0]["keys"] == [
        {"key": "k", "before": [1.5, "nan"], "after": {"a": "-inf"}}
    ]
    json.dumps(out, allow_nan=False)  # valid JSON
    assert json_safe(math.inf) == "inf" and json_safe(2.5) == 2.5 and json_safe("nan") == "nan"
    assert Plan((change,)).format().splitlines()[1] == '    k: [1.5, "nan"] -> {"a": "-inf"}'


@pytest.mark.parametrize(
    ("value", "echo"),
    [
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (5432, "5432"),
        (5432.0, "5432"),
        (-0.0, "0"),
        (2.5, "2.5"),
        (1e100, str(int(1e100))),
        (math.inf, "inf"),
        ("x", "x"),
        (None, None),
        ([1, True, 2.5, "a"], ["1", "true", "2.5", "a"]),
        ({"a": 1}, {"a": 1}),
    ],
)
def test_normal_writes_every_scalar_as_the_api_echoes_it(value: object, echo: object) -> None:
    assert normal(value) == echo


def test_normal_of_nan_is_its_text() -> None:
    assert normal(math.nan) == "nan"


scalars = st.one_of(
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
)


@given(st.one_of(scalars, st.lists(scalars, max_size=4)))
def test_every_value_is_the_same_as_its_echo(value: object) -> None:
    assert same(value, normal(value))
    assert same(value, value)


@given(st.lists(scalars, min_size=1, max_size=4), scalars)
def test_lists_differ_by_length_or_by_any_item(items: list[object], extra: object) -> None:
    assert not same(items, [*items, extra])
    assert not same([*items, extra], items)
    changed = [*items[:-1], "not " + str(normal(items[-1]))]
    assert not same(items, changed)


@pytest.mark.parametrize(
    ("want", "have", "expected"),
    [
        (2.0, "2.0", True),
        (2.0, "2", True),
        (2.5, "2.50", True),
        (2.5, "2.6", False),
        (2.5, "two", False),
        (True, "1", False),
        (1, "true", False),
        (5, "5", True),
        (["a", "b"], "ab", False),
        ("ab", ["a", "b"], False),
        ([2.0], ["2.0"], True),
        (math.inf, "inf", True),
        (None, "", False),
    ],
)
def test_same(want: object, have: object, expected: bool) -> None:
    assert same(want, have) is expected
