from __future__ import annotations

from streamkap_config.schemas.definitions import parse_definitions
from streamkap_config.schemas.diff import diff_definitions


def defn(*props: dict) -> object:
    return parse_definitions({"C": list(props)}, code="c")[0]


def p(name: str, control: str = "text", **kw: object) -> dict:
    value = {"control": control, **kw.pop("value", {})}  # type: ignore[dict-item]
    return {"name": name, "value": value, **kw}


def changes(old, new):
    return [(c.kind, c.key, c.breaking) for c in diff_definitions(old, new).changes]


def test_no_changes():
    a = defn(p("a"))
    d = diff_definitions(a, a)
    assert d.changes == () and not d.breaking


def test_each_kind_of_change_and_whether_it_breaks():
    old = defn(
        p("keep"),
        p("gone"),
        p("becomes.required"),
        p("retyped"),
        p("choice", "one-select", value={"raw_values": ["a", "b"]}),
        p("wider", "slider", value={"min": 1, "max": 10}),
        p("narrower", "slider", value={"min": 1, "max": 10}),
        p("default", "number", value={"default": 1}),
        p("relaxed", required=True),
    )
    new = defn(
        p("keep"),
        p("becomes.required", required=True),
        p("retyped", "toggle"),
        p("choice", "one-select", value={"raw_values": ["a", "c"]}),
        p("wider", "slider", value={"min": 0, "max": 20}),
        p("narrower", "slider", value={"min": 2, "max": 10}),
        p("default", "number", value={"default": 2}),
        p("relaxed"),
        p("optional.new"),
        p("required.new", required=True),
    )
    assert changes(old, new) == [
        ("required", "becomes.required", True),
        ("type", "retyped", True),
        ("enum", "choice", True),
        ("range", "wider", False),
        ("range", "narrower", True),
        ("default", "default", False),
        ("required", "relaxed", False),
        ("added", "optional.new", False),
        ("added", "required.new", True),
        ("removed", "gone", True),
    ]


def test_added_enum_value_is_not_breaking():
    old = defn(p("c", "one-select", value={"raw_values": ["a"]}))
    new = defn(p("c", "one-select", value={"raw_values": ["a", "b"]}))
    assert changes(old, new) == [("enum", "c", False)]


def test_a_conditional_requirement_is_not_breaking_by_itself():
    old = defn(p("gate", "toggle"), p("x"))
    new = defn(
        p("gate", "toggle"),
        p("x", required=True, conditions=[{"operator": "EQ", "config": "gate", "value": True}]),
    )
    assert changes(old, new) == [("required", "x", False)]


def test_as_dict():
    d = diff_definitions(defn(p("a")), defn(p("a"), p("b", required=True))).as_dict()
    assert d["breaking"] is True and d["changes"][0]["key"] == "b"
