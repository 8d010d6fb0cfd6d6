"""Stored files: atomic writes that clean up after a failure, bounded and checked reads."""

from __future__ import annotations

import os

import pytest

from streamkap_config.schemas.storage import StoredFileError, atomic_write, parse_json, read_bytes


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path):
    target = tmp_path / "f.json"
    atomic_write(target, b"old")

    with pytest.raises(TypeError):
        atomic_write(target, "not bytes")  # a write that fails half-way
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.json"]


def test_reads_are_bounded_and_refuse_what_is_not_a_regular_file(tmp_path):
    f = tmp_path / "big.json"
    f.write_bytes(b"[" + b"0," * 100 + b"0]")
    assert len(read_bytes(f)) == 203
    with pytest.raises(StoredFileError, match="larger than 10 bytes"):
        read_bytes(f, limit=10)
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(StoredFileError, match="not a regular file"):
        read_bytes(tmp_path / "pipe")


@pytest.mark.parametrize(
    ("data", "says"),
    [(b"[" * 100_000, "nested too deeply"), (b"{nope", "not valid JSON"), (b"\xff", "not valid")],
)
def test_bad_json_is_a_stored_file_error(data, says):
    with pytest.raises(StoredFileError, match=says):
        parse_json(data)
