"""What every reader shares, word for word: decoding, duplicate keys, depth, long
numbers, the limits' bounds, real paths and the directory walk."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from streamkap_config.loaders.common import (
    BYTES_CEILING,
    DEPTH_CEILING,
    Limits,
    LoadedFile,
    ParseError,
    decode,
    duplicate_issue,
    real_path,
    too_deep,
    too_long_number,
    walk,
)


def test_decode_drops_a_byte_order_mark_and_only_that() -> None:
    assert decode(b"\xef\xbb\xbfa: 1\n") == "a: 1\n"
    assert decode(b"a: \xc3\xa9\n") == "a: \u00e9\n"
    assert decode(b"\xef\xbb\xbf") == ""


def test_bad_utf8_is_placed_on_its_own_line_and_column() -> None:
    with pytest.raises(ParseError) as caught:
        decode(b"a: 1\nbb: 2\ncc: \xff\n")
    e = caught.value
    assert (e.message, e.line, e.column, e.hint) == (
        "not valid UTF-8 (byte 0xff)",
        3,
        5,
        "save the file as UTF-8",
    )
    with pytest.raises(ParseError) as caught:
        decode(b"\xef\xbb\xbf\xc3")
    assert (caught.value.line, caught.value.column) == (1, 1)


def test_a_duplicate_key_issue_in_full() -> None:
    issue = duplicate_issue(("config", "a.b"), (3, 1), 7, 5)
    assert (issue.code, issue.severity, issue.message, issue.key, issue.pointer) == (
        "duplicate-key",
        "error",
        "config.a.b: duplicate key (first at line 3)",
        None,
        "/config/a.b",
    )
    assert (issue.line, issue.column, issue.hint) == (
        7,
        5,
        "a later value would silently replace the first; keep one",
    )
    assert duplicate_issue(("x",), None, 2, 1).message == "x: duplicate key"


def test_too_deep_names_the_first_container_past_the_bound() -> None:
    data = {"a": 1, "b": [0, {"c": {"d": []}}]}
    # root 1, b 2, b/1 3, b/1/c 4, b/1/c/d 5
    assert too_deep(data, 5) is None
    assert too_deep(data, 4) == ("b", "1", "c", "d")
    assert too_deep(data, 3) == ("b", "1", "c")
    assert too_deep(data, 2) == ("b", "1")
    assert too_deep([[1]], 1) == ("0",)
    assert too_deep("scalar", 1) is None
    # a scalar met first does not end the walk
    assert too_deep({"a": {"y": {}}, "z": 1}, 2) == ("a", "y")


def test_what_is_said_of_a_number_python_refuses() -> None:
    exc = ValueError(
        "Exceeds the limit (4300 digits) for integer string conversion: value has 5001 digits"
    )
    assert too_long_number(exc) == (
        "an integer of 5,001 digits is too long to read (at most 4,300 digits)"
    )
    assert too_long_number(ValueError("other")) == (
        "an integer is too long to read (at most 4,300 digits)"
    )


def test_the_limits_own_bounds() -> None:
    assert Limits(max_depth=1).max_depth == 1
    assert Limits(max_depth=DEPTH_CEILING).max_depth == DEPTH_CEILING
    assert Limits(max_bytes=1).max_bytes == 1
    assert Limits(max_bytes=BYTES_CEILING).max_bytes == BYTES_CEILING
    for depth in (0, DEPTH_CEILING + 1):
        with pytest.raises(ValueError, match=r"^max_depth must be between 1 and 256$"):
            Limits(max_depth=depth)
    for size in (0, BYTES_CEILING + 1):
        with pytest.raises(ValueError, match=r"^max_bytes must be between 1 and 268,435,456$"):
            Limits(max_bytes=size)
    assert Limits() == Limits(5 * 1024 * 1024, 64, 200_000, 10_000)


def test_a_parse_error_says_its_message() -> None:
    e = ParseError("bad", 2, 3, "fix it")
    assert str(e) == "bad" and (e.message, e.line, e.column, e.hint) == ("bad", 2, 3, "fix it")
    assert (ParseError("m").line, ParseError("m").column, ParseError("m").hint) == (1, 1, None)


def test_a_loaded_file_has_its_documents_under_their_old_name_too() -> None:
    loaded = LoadedFile("x.yaml")
    assert loaded.documents == [] and loaded.issues == [] and loaded.sources is loaded.documents


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links")
def test_real_paths_see_through_links_of_files_and_folders(tmp_path: Path) -> None:
    for name in ("-", "<stdin>", "<string>"):
        assert real_path(name) == name
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "a.yaml"
    target.write_text("a: 1\n")
    (tmp_path / "linked").symlink_to(tmp_path / "real")
    (tmp_path / "real" / "b.yaml").symlink_to(target)
    want = os.path.realpath(target)
    assert real_path(str(target)) == want
    assert real_path(str(tmp_path / "linked" / "a.yaml")) == want
    assert real_path(str(tmp_path / "real" / "b.yaml")) == want
    assert real_path(str(tmp_path / "real" / "missing.yaml")) == os.path.join(
        os.path.realpath(tmp_path / "real"), "missing.yaml"
    )


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and links")
def test_walk_order_hidden_folders_links_fifos_and_depth(tmp_path: Path) -> None:
    for name in ("b/z.yaml", "b/a.yaml", "a.yaml", ".hidden/x.yaml", "c/d/e/deep.yaml", "z/l.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    os.mkfifo(tmp_path / "b" / "pipe")
    (tmp_path / "loop").symlink_to(tmp_path)
    errors: list[tuple[str, str]] = []
    found = list(walk(str(tmp_path), lambda p, r: errors.append((p, r))))
    rel = [os.path.relpath(p, tmp_path) for p in found]
    assert rel == ["a.yaml", "b/a.yaml", "b/z.yaml", "c/d/e/deep.yaml", "z/l.yaml"]
    assert errors == []
    shallow = list(walk(str(tmp_path), lambda p, r: errors.append((p, r)), max_depth=2))
    assert [os.path.relpath(p, tmp_path) for p in shallow] == [
        "a.yaml",
        "b/a.yaml",
        "b/z.yaml",
        "z/l.yaml",  # the walk goes on past a folder too deep
    ]
    assert errors == [
        (str(tmp_path / "c" / "d"), "folders nested deeper than 2 levels were not read")
    ]
    every = list(walk(str(tmp_path), lambda p, r: None, keep_dir=lambda folder, name: True))
    assert os.path.join(str(tmp_path), ".hidden", "x.yaml") in every


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads every folder")
def test_walk_says_which_folder_it_cannot_read(tmp_path: Path) -> None:
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked").chmod(0)
    try:
        errors: list[tuple[str, str]] = []
        assert list(walk(str(tmp_path), lambda p, r: errors.append((p, r)))) == []
        assert errors == [
            (str(tmp_path / "locked"), "cannot read the directory: Permission denied")
        ]
    finally:
        (tmp_path / "locked").chmod(0o700)


def test_walk_of_a_missing_folder_is_an_error_not_an_exception(tmp_path: Path) -> None:
    errors: list[tuple[str, str]] = []
    assert list(walk(str(tmp_path / "nope"), lambda p, r: errors.append((p, r)))) == []
    assert errors == [
        (str(tmp_path / "nope"), "cannot read the directory: No such file or directory")
    ]
