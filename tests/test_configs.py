"""The pass that applies a connector's checks to a config, word for word: each
issue's code, severity, message, key, hint and position (the key's or the value's),
on a generated connector that has every kind of key the pass treats apart."""

from __future__ import annotations

import pytest

from streamkap_config.loaders import load_text
from streamkap_config.schemas.bundle import SchemaVersion
from streamkap_config.schemas.definitions import parse_definitions
from streamkap_config.schemas.jsonschema_gen import config_schema
from streamkap_config.validation.validate import validate_document

RAW = {
    "Widget": [
        {
            "name": "host.name.user.defined",
            "display_name": "Host name",
            "required": True,
            "terraform_attribute": "host_name",
            "value": {"control": "text"},
        },
        {"name": "port", "display_name": "Port", "required": True, "value": {"control": "number"}},
        {"name": "server.id", "user_defined": False, "value": {"control": "text"}},
        {"name": "status", "value": {"control": "text", "readonly": True}},
        {"name": "slot.name", "set_once": True, "value": {"control": "text"}},
        {"name": "ssh.enabled", "value": {"control": "toggle", "default": False}},
        {
            "name": "ssh.host",
            "display_name": "SSH host",
            "required": True,
            "terraform_attribute": "ssh_host",
            "conditions": [{"operator": "EQ", "config": "ssh.enabled", "value": True}],
            "value": {"control": "text"},
        },
        {
            "name": "ssh.port",
            "conditions": [{"operator": "EQ", "config": "ssh.enabled", "value": True}],
            "value": {"control": "number"},
        },
        {
            "name": "ssh.key",
            "display_name": "SSH key",
            "required": True,
            "conditions": [
                {"operator": "EQ", "config": "ssh.enabled", "value": True},
                {"operator": "EQ", "config": "ssh.auth", "value": "key"},
            ],
            "value": {"control": "text"},
        },
        {
            "name": "ssh.auth",
            "value": {"control": "one-select", "raw_values": ["password", "key"]},
            "conditions": [{"operator": "EQ", "config": "ssh.enabled", "value": True}],
        },
        {
            "name": "ssh.agent",
            "conditions": [
                {"operator": "EQ", "config": "ssh.enabled", "value": True},
                {"operator": "EQ", "config": "ssh.auth", "value": "key"},
            ],
            "value": {"control": "toggle"},
        },
        {"name": "database.password", "encrypt": True, "value": {"control": "password"}},
        {"name": "database.port.name", "value": {"control": "text"}},
        {"name": "database.post.name", "value": {"control": "text"}},
        {"name": "a.b", "value": {"control": "text"}},
        {"name": "a.b.user.defined", "value": {"control": "text"}},
    ]
}
DEFINITION = parse_definitions(RAW, code="widget")[0]
SCHEMAS = {
    "widget": SchemaVersion(
        "widget",
        "Widget",
        DEFINITION.version,
        DEFINITION,
        config_schema(DEFINITION),
        origin="test",
    )
}
HEAD = "name: w\nconnector: widget\nconfig:\n"
VALID = "  host.name: h\n  port: 5\n"


def issues(body: str, **kw):
    """Every issue of ``HEAD + body`` as (code, severity, message, key, hint, line, column)."""
    (doc,) = load_text((HEAD + body).encode(), "w.yaml").documents
    result = validate_document(doc, schemas=SCHEMAS, **kw)
    return [
        (i.code, i.severity, i.message, i.key, i.hint, i.line, i.column) for i in result.issues
    ], result


def test_a_valid_config_has_no_issue_and_its_canonical_keys():
    found, result = issues(VALID)
    assert found == [] and result.ok
    assert dict(result.checked_body["config"]) == {"host.name.user.defined": "h", "port": 5}


def test_an_unknown_key_is_at_its_key_with_the_closest_names():
    found, result = issues(VALID + "  slot.nam: x\n  zzzzzz: 1\n")
    assert found == [
        (
            "unknown-key",
            "error",
            "config.slot.nam: unknown key",
            None,
            "did you mean slot.name?",
            6,
            3,
        ),
        ("unknown-key", "error", "config.zzzzzz: unknown key", None, None, 7, 3),
    ]
    assert not result.ok


def test_a_key_matching_several_is_ambiguous():
    found, _ = issues(VALID + "  a.b.user.displayed: x\n")
    assert found == [
        (
            "ambiguous-key",
            "error",
            "config.a.b.user.displayed: matches several keys: a.b, a.b.user.defined",
            None,
            "write the full API name",
            6,
            3,
        )
    ]


def test_a_key_set_twice_names_where_it_was_first_set():
    found, _ = issues(VALID + "  host_name: again\n")
    assert found == [
        (
            "duplicate-key",
            "error",
            "config.host_name: sets host.name.user.defined again (first set at "
            "config.host.name, /config/host.name)",
            "host.name.user.defined",
            "keep one of the two",
            6,
            3,
        )
    ]


def test_keys_streamkap_sets_are_refused_and_read_only_ones_warned_and_left_out():
    found, result = issues(VALID + "  server.id: s\n  status: ok\n")
    assert found == [
        (
            "not-user-settable",
            "error",
            "config.server.id: server.id is set by Streamkap and cannot be set here",
            "server.id",
            "remove it",
            6,
            3,
        ),
        (
            "not-user-settable",
            "warning",
            "config.status: status is read-only: the server fills it in and ignores this value",
            "status",
            "remove it",
            7,
            3,
        ),
    ]
    assert not result.ok
    found, result = issues(VALID + "  status: ok\n")
    assert result.ok and "status" not in result.checked_body["config"]


def test_a_set_once_key_is_refused_only_in_update_mode():
    body = VALID + "  slot.name: s1\n"
    assert issues(body)[0] == []
    found, _ = issues(body, mode="update")
    assert found == [
        (
            "set-once",
            "error",
            "config.slot.name: slot.name can only be set when the source is created",
            "slot.name",
            None,
            6,
            3,
        )
    ]


def test_a_placeholder_left_in_place_is_a_type_error_at_the_value():
    found, _ = issues("  host.name: <string>\n  port: 5\n")
    assert found == [
        (
            "type",
            "error",
            "config.host.name: <string> is a placeholder of `streamkap-config new`",
            "host.name.user.defined",
            "write the value itself",
            4,
            14,
        )
    ]
    assert issues("  host.name: <not a placeholder\n  port: 5\n")[0] == []


@pytest.mark.parametrize(
    ("value", "code", "shown"),
    [
        ("${env:HOST", "unresolved-secret", "${env:HOST"),
        ("${var:HOST", "unresolved-variable", "${var:HOST"),
    ],
)
def test_a_reference_left_open_is_refused_naming_the_reference(value, code, shown):
    found, _ = issues(f"  host.name: '{value}'\n  port: 5\n")
    assert found == [
        (
            code,
            "error",
            f"config.host.name: the reference {shown}... is not closed",
            "host.name.user.defined",
            "end it with }: ${env:NAME} (a literal ${ is written $${)",
            4,
            14,
        )
    ]


def test_a_reference_is_checked_when_it_is_resolved_not_before():
    found, result = issues("  host.name: h\n  port: ${env:PORT}\n")
    assert found == [] and result.ok


def test_a_check_that_fails_is_reported_at_the_value():
    found, _ = issues("  host.name: h\n  port: many\n")
    assert found == [
        ("type", "error", 'config.port: expected an integer, got "many"', "port", None, 5, 9)
    ]


@pytest.mark.parametrize("refuse", [False, True])
def test_a_secret_in_plain_text_is_a_warning_or_with_the_flag_an_error(refuse):
    found, result = issues(VALID + "  database.password: hunter2\n", no_plaintext_secrets=refuse)
    assert found == [
        (
            "plaintext-secret",
            "error" if refuse else "warning",
            "config.database.password: secret written in plain text",
            "database.password",
            "use ${env:NAME} and set NAME in the environment",
            6,
            22,
        )
    ]
    assert result.ok is not refuse
    assert issues(VALID + "  database.password: ${env:PW}\n")[0] == []


def test_missing_required_keys_are_said_at_the_config_with_their_names():
    found, _ = issues("  ssh.enabled: true\n")
    assert found == [
        (
            "required",
            "error",
            "config: missing required key host.name.user.defined",
            "host.name.user.defined",
            "Host name; Terraform name host_name",
            3,
            1,
        ),
        ("required", "error", "config: missing required key port", "port", "Port", 3, 1),
        (
            "required",
            "error",
            "config: missing required key ssh.host (required when ssh.enabled == true)",
            "ssh.host",
            "SSH host; Terraform name ssh_host",
            3,
            1,
        ),
    ]


def test_a_required_key_written_wrong_is_not_also_missing():
    found, _ = issues("  host.name: h\n  port: many\n")
    assert [f[0] for f in found] == ["type"]


def test_update_mode_asks_for_no_required_key():
    assert issues("  ssh.enabled: true\n", mode="update")[0] == []


def test_a_conditional_key_whose_condition_fails_is_inactive():
    found, result = issues(VALID + "  ssh.port: 22\n")
    assert found == [
        (
            "inactive-key",
            "warning",
            "config.ssh.port: ssh.port only applies when ssh.enabled == true",
            "ssh.port",
            "remove it, or set ssh.enabled == true",
            6,
            3,
        )
    ]
    assert result.ok
    found, _ = issues(VALID + "  ssh.enabled: true\n  ssh.host: s\n  ssh.port: 22\n")
    assert found == []


def test_a_condition_sees_the_value_written_even_when_it_failed_its_check():
    found, _ = issues(VALID + "  ssh.enabled: 'maybe'\n")
    assert [f[0] for f in found] == ["type"]  # not also "ssh.host missing"
    found, _ = issues(VALID + "  ssh.enabled: true\n")
    assert [(f[0], f[3]) for f in found] == [("required", "ssh.host")]


def test_a_nested_config_reports_each_key_at_its_nested_place():
    found, _ = issues("  host:\n    name: h\n  port: 5\n  ssh:\n    port: 22\n")
    assert found == [
        (
            "inactive-key",
            "warning",
            "config.ssh.port: ssh.port only applies when ssh.enabled == true",
            "ssh.port",
            "remove it, or set ssh.enabled == true",
            8,
            5,
        )
    ]


def test_every_close_name_is_offered_and_each_bad_key_is_reported_after_the_others():
    found, _ = issues(
        VALID + "  a.b.user.displayed: x\n  host_name: again\n  database.pot.name: p\n"
    )
    assert [(f[0], f[2], f[4]) for f in found] == [
        (
            "ambiguous-key",
            "config.a.b.user.displayed: matches several keys: a.b, a.b.user.defined",
            "write the full API name",
        ),
        (
            "duplicate-key",
            "config.host_name: sets host.name.user.defined again (first set at "
            "config.host.name, /config/host.name)",
            "keep one of the two",
        ),
        (
            "unknown-key",
            "config.database.pot.name: unknown key",
            "did you mean database.post.name, database.port.name?",
        ),
    ]


def test_a_refused_key_is_not_in_the_config_read_for_other_checks():
    _, result = issues(VALID + "  server.id: s\n  status: ok\n  slot.name: s1\n", mode="update")
    assert dict(result.readable_config) == {"host.name.user.defined": "h", "port": 5}


def test_conditions_are_joined_with_and_and_only_the_unmet_ones_are_asked_for():
    found, _ = issues(VALID + "  ssh.enabled: true\n  ssh.host: s\n  ssh.auth: key\n")
    assert [(f[2], f[4]) for f in found] == [
        (
            "config: missing required key ssh.key (required when ssh.enabled == true and "
            'ssh.auth == "key")',
            "SSH key",
        )
    ]
    found, _ = issues(VALID + "  ssh.agent: true\n")
    assert [(f[2], f[4]) for f in found] == [
        (
            "config.ssh.agent: ssh.agent only applies when ssh.enabled == true and "
            'ssh.auth == "key"',
            'remove it, or set ssh.enabled == true and ssh.auth == "key"',
        )
    ]
    found, _ = issues(VALID + "  ssh.enabled: true\n  ssh.host: s\n  ssh.agent: true\n")
    assert [f[4] for f in found] == ['remove it, or set ssh.auth == "key"']


ORDERED = {
    "Ordered": [
        {
            "name": "gated",
            "required": True,
            "conditions": [{"operator": "EQ", "config": "gate", "value": True}],
            "value": {"control": "text"},
        },
        {"name": "gate", "value": {"control": "toggle", "default": False}},
        {"name": "after", "display_name": "After", "required": True, "value": {"control": "text"}},
    ]
}


def test_a_required_key_after_one_whose_condition_fails_is_still_asked_for():
    defn = parse_definitions(ORDERED, code="ordered")[0]
    version = SchemaVersion(
        "ordered", "Ordered", defn.version, defn, config_schema(defn), origin="test"
    )
    (doc,) = load_text(b"name: o\nconnector: ordered\nconfig: {}\n", "o.yaml").documents
    result = validate_document(doc, schemas={"ordered": version})
    assert [(i.code, i.key) for i in result.issues] == [("required", "after")]


def test_a_bare_config_says_config_where_a_required_key_is_missing():
    (doc,) = load_text(b"port: 5\n", "w.yaml", connector="widget").documents
    result = validate_document(doc, schemas=SCHEMAS)
    assert [(i.code, i.message, i.line, i.column) for i in result.issues] == [
        ("required", "config: missing required key host.name.user.defined", 1, 1)
    ]


def test_a_secret_of_the_wrong_type_is_never_quoted_in_a_hint():
    found, _ = issues(VALID + "  database.password: 1e4\n")
    assert [(f[0], f[2], f[4]) for f in found] == [
        ("type", "config.database.password: expected a string, got a number (value hidden)", None)
    ]
    found, _ = issues("  host.name: 1e4\n  port: 5\n")  # not a secret: the note explains it
    assert [f[4] for f in found] == [
        "the bare word 1e4 was read as the number 10000.0 (YAML 1.1 reads it as a string); "
        "quote it if you meant text"
    ]
