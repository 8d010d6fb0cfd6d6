from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from streamkap_config import validate_source
from streamkap_config.core.errors import LoadError
from streamkap_config.loaders import Limits, iter_files, load_file, load_text

PG_YAML = """\
name: orders
connector: postgresql
config:
  database:
    hostname: db
    port: abc
    user: u
    password: ${env:PW}
    dbname: d
  schema.include.list: public
  table.include.list: public.t
"""


def issues_of(text: str, path: str = "f.yaml", **kw):
    loaded = load_text(text, path, **kw)
    found = [(i.code, i.line, i.column) for i in loaded.issues]
    for doc in loaded.documents:
        found += [(i.code, i.line, i.column) for i in validate_source(doc).issues]
    return found


def test_yaml_positions_reach_issues():
    (doc,) = load_text(PG_YAML, "pg.yaml").documents
    (issue,) = validate_source(doc).issues
    assert (issue.code, issue.pointer, issue.line, issue.column) == (
        "type",
        "/config/database/port",
        6,
        11,
    )


def test_missing_key_points_at_config():
    text = PG_YAML.replace("    dbname: d\n", "")
    assert ("required", 3, 1) in issues_of(text)


def test_yaml_duplicate_key_keeps_the_first_and_reports_the_second():
    text = PG_YAML.replace("    user: u\n", "    user: u\n    user: v\n")
    loaded = load_text(text, "pg.yaml")
    (doc,) = loaded.documents
    assert doc.data["config"]["database"]["user"] == "u"
    (dup,) = doc.issues
    assert (dup.code, dup.pointer, dup.line, dup.column) == (
        "duplicate-key",
        "/config/database/user",
        8,
        5,
    )
    assert "first at line 7" in dup.message


def test_duplicate_mapping_value_is_dropped_whole():
    loaded = load_text("a: {x: 1}\na: {y: 2}\nb: 3\n", "f.yaml")
    assert loaded.documents[0].data == {"a": {"x": 1}, "b": 3}


def test_json_duplicate_key():
    text = '{"name": "n",\n "connector": "s3",\n "config": {"format": "json", "format": "csv"}}'
    (doc,) = load_text(text, "s.json").documents
    assert doc.data["config"]["format"] == "json"
    assert [(i.code, i.line, i.column) for i in doc.issues] == [("duplicate-key", 3, 31)]


def test_json_positions():
    text = '{\n  "name": "n",\n  "connector": "s3",\n  "config": {"format": "xml"}\n}\n'
    assert issues_of(text, "s.json") == [("enum", 4, 24)]


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ('{"a": 1,,}', 1, 9, "expected a key"),
        ('{"a": 1}\n{"b": 2}', 2, 1, "extra data"),
        ('{"a": tru}', 1, 7, "unexpected character"),
        ('{"a": "x', 1, 7, "unterminated string"),
        ("[1, 2", 1, 6, "unexpected end"),
    ],
)
def test_json_parse_errors_have_positions(text, line, column, fragment):
    (issue,) = load_text(text, "x.json").issues
    assert (issue.code, issue.line, issue.column) == ("parse-error", line, column)
    assert fragment in issue.message


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.text()
        | st.floats(allow_nan=False, allow_infinity=False),
        lambda children: st.lists(children) | st.dictionaries(st.text(), children),
        max_leaves=25,
    )
)
def test_json_reader_reads_what_json_reads(value):
    text = json.dumps(value, indent=1)
    loaded = load_text(text, "v.json")
    if isinstance(value, (dict, list)):
        data = [d.data for d in loaded.documents]
        expected = value if isinstance(value, list) else [value]
        lists = ("sources", "destinations", "transforms", "pipelines")
        if isinstance(value, dict) and any(k in value for k in lists) and "config" not in value:
            return  # a file of lists: its shape is checked elsewhere
        assert data == expected
    else:
        assert [i.code for i in loaded.issues] == ["parse-error"]


@given(
    st.dictionaries(
        st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1),
        st.none()
        | st.booleans()
        | st.integers()
        | st.text()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.lists(st.integers() | st.text(), max_size=3),
        min_size=1,
    )
)
def test_yaml_loader_reads_what_safe_dump_writes(value):
    from streamkap_config.loaders.yaml_reader import _plain_scalar

    # Strings that YAML 1.1 (PyYAML's dumper) leaves bare but YAML 1.2 types differently
    # (such as 1e4) are where the two rules disagree on purpose.
    def agrees(v: object) -> bool:
        return not isinstance(v, str) or not v or _plain_scalar(v)[0] == v

    from streamkap_config.core.kinds import LIST_KEYS

    # A mapping holding a list key (sources:, pipelines: ...) is a file of lists instead.
    value = {k: v for k, v in value.items() if k not in LIST_KEYS and agrees(k)}
    if not value or not all(
        all(agrees(x) for x in v) if isinstance(v, list) else agrees(v) for v in value.values()
    ):
        return
    text = yaml.safe_dump(value, allow_unicode=True)
    (doc,) = load_text(text, "v.yaml").documents
    assert doc.data == yaml.safe_load(text)


@pytest.mark.parametrize(
    ("word", "expected", "note"),
    [
        ("yes", "yes", "boolean"),
        ("on", "on", "boolean"),
        ("0755", "0755", "octal"),
        ("2026-01-01", "2026-01-01", "date"),
        ("1:30", "1:30", "base-60"),
        ("1e4", 10000.0, "YAML 1.1 reads it as a string"),
        ("0x1F", 31, None),
        ("~", None, None),
        ("True", True, None),
        ("12", 12, None),
    ],
)
def test_yaml_scalars_follow_yaml_12_with_notes(word, expected, note):
    (doc,) = load_text(f"value: {word}\n", "v.yaml", connector="s3").documents
    assert doc.data["value"] == expected and type(doc.data["value"]) is type(expected)
    got = doc.positions.notes.get(("value",))
    assert (got is None) if note is None else (note in got)


def test_bare_word_note_becomes_the_hint_of_a_type_error():
    text = PG_YAML.replace("port: abc", "port: 5432").replace("dbname: d", "dbname: 1e4")
    (doc,) = load_text(text, "pg.yaml").documents
    (issue,) = validate_source(doc).issues
    assert issue.code == "type" and "quote it" in issue.hint


def test_a_leading_zero_port_is_told_what_to_write_quoted_or_not():
    for written in ("0755", '"0755"'):
        (doc,) = load_text(PG_YAML.replace("port: abc", f"port: {written}"), "pg.yaml").documents
        (issue,) = validate_source(doc).issues
        assert (issue.code, issue.hint) == ("type", "write 755 (a number has no leading zero)")


def test_a_yaml_11_boolean_word_on_an_enum_gets_the_allowed_values_not_a_boolean_hint():
    text = PG_YAML.replace("port: abc", "port: 5432")
    text = text.replace("dbname: d", "dbname: d\n    sslmode: on")
    (doc,) = load_text(text, "pg.yaml").documents
    issue = next(i for i in validate_source(doc).issues if i.code == "enum")
    assert "true or false" not in issue.hint and "require" in issue.hint


def test_quoted_scalars_stay_strings():
    (doc,) = load_text("a: 'yes'\nb: \"12\"\nc: !!str 12\n", "v.yaml", connector="s3").documents
    assert doc.data == {"a": "yes", "b": "12", "c": "12"}


def test_python_tags_are_refused_not_run(tmp_path):
    marker = tmp_path / "pwned"
    text = f"a: !!python/object/apply:os.system ['touch {marker}']\n"
    (issue,) = load_text(text, "evil.yaml").issues
    assert issue.code == "parse-error" and "tag" in issue.message
    assert not marker.exists()


def test_billion_laughs_is_rejected_fast():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghij"):
        prev = "abcdefghij"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    (issue,) = load_text("\n".join(lines) + "\n", "bomb.yaml").issues
    # Refused at the node budget, long before the 10^9 nodes the aliases describe.
    assert issue.code == "parse-error" and "over 200,000 nodes" in issue.message


def test_aliases_and_merge_keys_work():
    text = "base: &b {x: 1, y: 2}\nconfig:\n  <<: *b\n  y: 3\n  z: *b\n"
    (doc,) = load_text(text, "v.yaml", connector="s3").documents
    assert doc.data["config"] == {"x": 1, "y": 3, "z": {"x": 1, "y": 2}}
    assert doc.issues == []


@pytest.mark.parametrize("kind", ["yaml", "json"])
def test_deep_nesting_is_rejected(kind):
    text = "[" * 10000 + "]" * 10000
    (issue,) = load_text(text, f"deep.{kind}").issues
    # Ours says "nesting deeper than 64 levels"; newer libyaml may stop first at its own limit.
    assert issue.code == "parse-error" and "nesting" in issue.message
    assert load_text("[" * 5 + "]" * 5, f"ok.{kind}", limits=Limits(max_depth=4)).issues


def test_size_limit(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * 2000 + "\n")
    with pytest.raises(LoadError, match="over the limit"):
        load_file(path, limits=Limits(max_bytes=1000))
    assert load_file(path).documents


def test_non_utf8_has_a_position():
    (issue,) = load_text(b"name: ok\nconnector: \xff\xfe\n", "bad.yaml").issues
    assert (issue.code, issue.line, issue.column) == ("parse-error", 2, 12)
    assert "UTF-8" in issue.message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("   \n\n", "empty"),
        ("just a string\n", "got a str"),
        ("42\n", "got a int"),
        ("key: [unclosed\n", "invalid YAML"),
        ("a: b: c\n", "invalid YAML"),
    ],
)
def test_yaml_bad_shapes_are_parse_errors(text, fragment):
    (issue,) = load_text(text, "x.yaml").issues
    assert issue.code == "parse-error" and fragment in issue.message
    assert issue.line is not None and issue.column is not None


def test_multi_document_yaml_and_sources_list():
    multi = "name: a\nconnector: s3\nconfig: {}\n---\nname: b\nconnector: s3\nconfig: {format: x}\n"
    loaded = load_text(multi, "m.yaml")
    assert [d.name for d in loaded.documents] == ["a", "b"]
    (issue,) = validate_source(loaded.documents[1]).issues
    assert (issue.code, issue.line) == ("enum", 7)
    listed = (
        "sources:\n  - name: a\n    connector: s3\n    config: {}\n"
        "  - name: b\n    connector: s3\n    config: {format: x}\n"
    )
    loaded = load_text(listed, "l.yaml")
    (issue,) = validate_source(loaded.documents[1]).issues
    assert (issue.pointer, issue.line, issue.column) == ("/sources/1/config/format", 7, 22)


def test_bare_config_with_connector():
    (doc,) = load_text("format: x\n", "c.yaml", connector="s3").documents
    assert doc.bare
    (issue,) = validate_source(doc).issues
    assert (issue.code, issue.pointer, issue.line) == ("enum", "/format", 1)


def test_toml_positions_and_errors():
    text = 'name = "n"\nconnector = "s3"\n\n[config]\nformat = "x"\n"aws.s3.region" = "mars"\n'
    assert issues_of(text, "s.toml") == [("enum", 5, 10), ("enum", 6, 19)]
    (issue,) = load_text('name = "n"\nname = "m"\n', "d.toml").issues
    assert issue.code == "parse-error" and issue.line == 2
    (issue,) = load_text("a = [1,\n", "e.toml").issues
    assert issue.code == "parse-error"


def test_toml_array_of_tables():
    text = (
        '[[sources]]\nname = "a"\nconnector = "s3"\n[sources.config]\nformat = "json"\n\n'
        '[[sources]]\nname = "b"\nconnector = "s3"\n[sources.config]\nformat = "x"\n'
    )
    loaded = load_text(text, "s.toml")
    (issue,) = validate_source(loaded.documents[1]).issues
    assert (issue.pointer, issue.line) == ("/sources/1/config/format", 11)


def test_unreadable_files(tmp_path):
    with pytest.raises(LoadError, match="no such file"):
        load_file(tmp_path / "missing.yaml")
    with pytest.raises(LoadError, match="is a directory"):
        load_file(tmp_path)


def test_iter_files_recurses_and_skips_hidden(tmp_path):
    for name in ("a.yaml", "b.json", "c.toml", "d.txt", ".hidden.yaml", "sub/e.yml", ".git/f.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x: 1\n")
    found = [p.removeprefix(str(tmp_path) + "/") for p in iter_files([str(tmp_path)])]
    assert found == ["a.yaml", "b.json", "c.toml", "sub/e.yml"]


def test_bare_word_notes_never_quote_a_secret():
    text = PG_YAML.replace("password: ${env:PW}", "password: 1e4711")
    (doc,) = load_text(text, "pg.yaml").documents
    assert "1e4711" in str(doc.positions.notes)
    issues = validate_source(doc).issues
    assert ("type", "/config/database/password") in [(i.code, i.pointer) for i in issues]
    assert all("1e4711" not in f"{i.message} {i.hint}" for i in issues)
    text = PG_YAML.replace("password: ${env:PW}", "pasword: 0755")
    (doc,) = load_text(text, "pg.yaml").documents
    assert all("0755" not in f"{i.message} {i.hint}" for i in validate_source(doc).issues)


def test_a_bad_tagged_scalar_is_not_quoted():
    (issue,) = load_text("password: !!int hunter2-secret\n", "p.yaml").issues
    assert issue.code == "parse-error" and "hunter2-secret" not in issue.message


@pytest.mark.parametrize(
    ("text", "line", "column", "says"),
    [
        ("name: a\nconfig:\n\tdatabase: x\n", 3, 1, "YAML does not allow tabs for indentation"),
        (
            "name: a\nconfig:\n  database:\n    hostname: h\n   port: 5\n",
            5,
            4,
            "the key port is indented 3 spaces, which does not match its siblings "
            "(the key hostname on line 4 is indented 4 spaces)",
        ),
        (
            "name: a\nconfig:\n  database:\n    hostname: h\n      port: 5\n",
            5,
            7,
            "the key port is indented 6 spaces",
        ),
    ],
)
def test_tabs_and_stray_indents_are_explained(text, line, column, says):
    (issue,) = load_text(text, "t.yaml").issues
    assert (issue.code, issue.line, issue.column) == ("parse-error", line, column)
    assert says in issue.message


def test_a_file_of_empty_documents_holds_no_document():
    (issue,) = load_text("---\n---\n", "e.yaml").issues
    assert issue.code == "parse-error" and "no document" in issue.message


def test_duplicate_keys_are_credited_to_their_own_source_by_path_segment():
    items = "".join(
        f"  - name: s{n}\n    connector: kafkadirect\n    config: {{topic.prefix: p}}\n"
        for n in range(11)
    )
    items = items.replace("name: s10\n", "name: s10\n    name: again\n")
    loaded = load_text("sources:\n" + items, "s.yaml")
    with_dups = [n for n, d in enumerate(loaded.documents) if d.issues]
    assert with_dups == [10]


def test_toml_multi_line_strings_do_not_throw_positions_off():
    text = (
        'name = "n"\n'
        'connector = "postgresql"\n'
        "[config]\n"
        'table.include.list = """\n'
        "fake = 1\n"
        '[not.a.table]\n"""\n'
        "literal = '''\n"
        "other = 2\n"
        "'''\n"
        'port = "abc"\n'
    )
    (doc,) = load_text(text, "m.toml").documents
    assert doc.positions.of_key(("config", "port")) == (11, 1)
    assert doc.positions.of_key(("config", "fake")) == (3, 2)  # no such key: its table
    assert ("not", "a", "table") not in doc.positions.keys


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v: !!float 1.5\n", 1.5),
        ("v: !!null ''\n", None),
        ("v: !!bool TRUE\n", True),
        ("v: !!int 0x1f\n", 31),
        ("v: .inf\n", float("inf")),
        ("v: 0o17\n", 15),
        ("v: 0xZZ\n", "0xZZ"),
        ("v: 12:30\n", "12:30"),
        ("v: 1e3\n", 1000.0),
    ],
)
def test_yaml_tags_and_scalars(text, expected):
    (doc,) = load_text(text, "t.yaml", connector="s3").documents
    assert doc.data["v"] == expected and type(doc.data["v"]) is type(expected)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("v: !!bool maybe\n", "not a valid bool"),
        ("v: !!timestamp 2026-01-01\n", "unsupported YAML tag"),
        ("? [a]\n: 1\n", "cannot be a key"),
        ("a: &x [1]\n*x : 2\n", "alias used as a key"),
        ("<<: 5\n", "merge key"),
        ("v: !custom {}\n", "unsupported YAML tag"),
    ],
)
def test_yaml_shapes_that_are_refused(text, says):
    (issue,) = load_text(text, "t.yaml").issues
    assert issue.code == "parse-error" and says in issue.message


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"a": ', "unexpected end of input"),
        ('{"a" 1}', "expected ':' after a key"),
        ("[1, 2", "unexpected end of input"),
        ("[1 2]", "expected ',' or ']'"),
        ('{"a": 1 "b": 2}', "expected ',' or '}'"),
        ("[1] [2]", "extra data after the document"),
    ],
)
def test_json_syntax_errors_say_what_was_expected_where(text, says):
    (issue,) = load_text(text, "bad.json").issues
    assert issue.code == "parse-error" and says in issue.message


@pytest.mark.parametrize("alias", [False, True])
def test_the_node_budget_holds_with_or_without_aliases(alias):
    # Without a "*" in the text no alias memo is kept: the same budget.
    head = "a: &x 1\nb: *x\n" if alias else "a: 1\nb: 1\n"
    text = head + "".join(f"k{i}: {i}\n" for i in range(20))
    loaded = load_text(text, "x.yaml", limits=Limits(max_nodes=10))
    assert [(i.code, i.message, i.line) for i in loaded.issues] == [
        ("parse-error", "the document expands to over 10 nodes", 10)
    ]
    assert load_text(text, "x.yaml", limits=Limits(max_nodes=23)).issues == []


def test_a_toml_key_written_twice_is_named_with_both_lines():
    loaded = load_text('name = "a"\nconnector = "s3"\nname = "b"\n', "d.toml")
    (issue,) = loaded.issues
    assert (issue.code, issue.line, issue.column) == ("parse-error", 3, 1)
    assert issue.message == 'duplicate key "name" (first at line 1)'
    assert "Cannot overwrite" not in issue.message and issue.hint is not None


@pytest.mark.parametrize(
    ("text", "column", "close"),
    [('{"name": "a", "config": {"x": 1,}}', 32, "}"), ('{"tags": [1, 2,]}', 15, "]")],
)
def test_a_json_trailing_comma_is_said_at_the_comma(text, column, close):
    (issue,) = load_text(text, "d.json").issues
    assert (issue.line, issue.column) == (1, column)
    assert issue.message == f"invalid JSON: a comma before '{close}'"
    assert issue.hint == "JSON allows no comma after the last item; remove it"


def test_a_boolean_word_in_toml_gets_no_yaml_hint():
    from streamkap_config import validate_document

    doc = load_text(
        'name = "o"\nconnector = "postgresql"\n[config]\n"database.hostname" = "h"\n'
        '"database.user" = "u"\n"database.password" = "${env:P}"\n"database.dbname" = "d"\n'
        '"schema.include.list" = "public"\n"table.include.list" = "public.a"\n'
        '"heartbeat.enabled" = "yes"\n',
        "o.toml",
    ).documents[0]
    (issue,) = [i for i in validate_document(doc).issues if i.code == "type"]
    assert issue.hint is not None and "YAML" not in issue.hint and "true or false" in issue.hint
