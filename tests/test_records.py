"""Record classes mean what the same dataclasses mean (the package's own records too)."""

from __future__ import annotations

import dataclasses
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamkap_config.core.issues import Issue
from streamkap_config.core.records import FrozenInstanceError, field, record, replace


@record(frozen=True)
class Frozen:
    a: int
    b: str = "x"
    tags: list[str] = field(default_factory=list, compare=False)
    note: str = field(default="", repr=False)
    size: int = field(init=False, default=0)


@dataclasses.dataclass(frozen=True)
class FrozenDC:
    a: int
    b: str = "x"
    tags: list[str] = dataclasses.field(default_factory=list, compare=False)
    note: str = dataclasses.field(default="", repr=False)
    size: int = dataclasses.field(init=False, default=0)


@record
class Mutable:
    items: list[int] = field(default_factory=list)
    total: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.total = sum(self.items)


values = st.tuples(
    st.integers(), st.text(max_size=3), st.lists(st.text(max_size=2), max_size=2), st.text()
)


@given(values, values)
def test_init_repr_eq_and_hash_as_the_same_dataclass(one, two):
    ours = [Frozen(*one), Frozen(*two)]
    theirs = [FrozenDC(*one), FrozenDC(*two)]
    assert [repr(r).replace("FrozenDC", "Frozen") for r in theirs] == [repr(r) for r in ours]
    assert (ours[0] == ours[1]) == (theirs[0] == theirs[1])
    assert [hash(r) for r in ours] == [hash(r) for r in theirs]
    assert ours[0].size == 0 and ours[0].tags is not Frozen(1).tags  # a fresh list each


def test_frozen_mutable_replace_and_wrong_arguments():
    f = Frozen(1, tags=["t"])
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'a'"):
        f.a = 2  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError, match="cannot delete field 'b'"):
        del f.b  # type: ignore[misc]
    assert replace(f, b="y") == Frozen(1, "y") and replace(f, b="y").tags == ["t"]
    assert Frozen(1) != (1, "x") and Frozen(1).__eq__((1,)) is NotImplemented
    m = Mutable([1, 2])
    assert m.total == 3 and m == Mutable([1, 2]) and repr(m) == "Mutable(items=[1, 2])"
    m.items.append(3)
    with pytest.raises(TypeError, match="unhashable"):
        hash(m)
    with pytest.raises(TypeError, match="missing required argument 'a'"):
        Frozen()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'c'"):
        Frozen(1, c=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="multiple values for argument 'a'"):
        Frozen(1, a=2)  # type: ignore[misc]
    with pytest.raises(TypeError, match="takes 4 arguments, 5 were given"):
        Frozen(1, "b", [], "n", 5)  # type: ignore[call-arg]


def test_records_of_the_package_pickle_and_keep_their_meaning():
    issue = Issue("type", "error", "config.port: expected an integer", "config.port", "/a", 3, 4)
    again = pickle.loads(pickle.dumps(issue))
    assert again == issue and hash(again) == hash(issue) and repr(again) == repr(issue)
    with pytest.raises(FrozenInstanceError):
        again.line = 5  # type: ignore[misc]


def test_the_rarer_declarations_mean_what_they_mean_for_a_dataclass():
    from typing import ClassVar

    @record(frozen=True)
    class Base:
        LABEL: ClassVar[str] = "base"  # not a field
        seen: list[int] = field(init=False, default_factory=list, compare=False)
        hidden: int = field(default=0, compare=False)

        def __eq__(self, other: object) -> bool:  # its own equality is kept
            return isinstance(other, Base)

        def __hash__(self) -> int:
            return 7

    class Child(Base):
        pass

    assert [f.name for f in Base.__record_fields__] == ["seen", "hidden"]  # type: ignore[attr-defined]
    one = Base()
    assert one.seen == [] and one.seen is not Base().seen and one == Child() and hash(one) == 7
    child = Child(hidden=1)
    child.extra = 1  # a subclass may add attributes that are not fields, as with dataclasses
    del child.extra
    with pytest.raises(FrozenInstanceError):
        child.hidden = 2  # type: ignore[misc]

    @record
    class Counted:
        n: int = field(compare=False)

        def __hash__(self) -> int:
            return self.n

    assert Counted(1) == Counted(2) and hash(Counted(3)) == 3  # nothing compared; own hash
