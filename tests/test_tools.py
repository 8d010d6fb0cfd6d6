"""The maintainer scripts' own tables stay true to the code they name: a hand-picked
mutation whose snippet moved, or an equivalent mutant of a module no longer measured,
would otherwise be found only by a long run outside CI."""

from __future__ import annotations

import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))

import mutate
import mutation


@pytest.mark.parametrize("m", mutate.MUTATIONS, ids=lambda m: m.name)
def test_each_hand_picked_mutation_finds_its_snippet_once(m):
    text = (ROOT / mutate.PKG / m.path).read_text()
    assert text.count(m.old) == 1
    assert all((ROOT / t).is_file() for t in m.tests)


def test_each_equivalent_mutant_belongs_to_a_measured_module():
    measured = {
        "streamkap_config." + module.removesuffix(".py").replace("/", ".")
        for module in mutation.MODULES
    }
    for name in mutation.EQUIVALENT:
        assert name.rsplit(".", 1)[0] in measured, name


def test_each_measured_module_and_its_tests_exist():
    for module, tests in mutation.MODULES.items():
        assert (ROOT / mutation.PKG / module).is_file(), module
        assert all((ROOT / "tests" / f"{t}.py").is_file() for t in tests), module
