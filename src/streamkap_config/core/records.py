"""Record classes, declared as dataclasses are, built in one step each.

The standard :mod:`dataclasses` costs about 30 ms of every command-line run
(it imports :mod:`inspect`, and compiles each method of each class on its own),
and the CLI runs on every commit. Measured again with ``python3
tools/bench_records.py`` (one ``validate`` in a fresh process, the package
as shipped against copies built on ``dataclasses`` and on
``dataclasses(slots=True)``, alternating, 15 runs each): medians 109.5 ms
against 140.5 ms and 138.8 ms. The rule is to keep these records only while
they save more than 5 ms a run. :func:`record` builds what this package uses
of a dataclass, with the same meaning, from one compiled block per class:

- ``__init__`` over the fields in order (``field(init=False)`` left out),
  with defaults and ``default_factory``, then ``__post_init__`` if defined;
- ``__repr__`` and ``__eq__`` over the fields (``repr=False``,
  ``compare=False`` left out), unless the class defines its own;
- ``frozen=True``: assigning or deleting an attribute raises
  :class:`FrozenInstanceError`, and ``__hash__`` hashes the compared fields;
  a mutable record is unhashable (as a dataclass with ``eq``), unless the
  class defines ``__hash__``.

Type checkers see a dataclass (``dataclass_transform``).

>>> @record(frozen=True)
... class Point:
...     x: int
...     y: int = 0
...     tags: list[str] = field(default_factory=list, compare=False)
>>> p = Point(1)
>>> p, p == Point(1, 0, ["a"]), replace(p, y=2)
(Point(x=1, y=0, tags=[]), True, Point(x=1, y=2, tags=[]))
>>> p.x = 5
Traceback (most recent call last):
...
streamkap_config.core.records.FrozenInstanceError: cannot assign to field 'x'
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: Any) -> Callable[[Any], Any]:
        return lambda decorator: decorator


__all__ = ["FrozenInstanceError", "field", "record", "replace"]

C = TypeVar("C", bound=type)
R = TypeVar("R")


class FrozenInstanceError(AttributeError):
    """An attribute of a frozen record was assigned or deleted."""


_MISSING: Any = object()  # no default given


class Field:
    """What :func:`field` declares about one field."""

    __slots__ = ("compare", "default", "default_factory", "init", "name", "repr")

    def __init__(
        self,
        default: Any = _MISSING,
        default_factory: Any = _MISSING,
        init: bool = True,
        repr: bool = True,
        compare: bool = True,
    ) -> None:
        self.name = ""
        self.default, self.default_factory = default, default_factory
        self.init, self.repr, self.compare = init, repr, compare


def field(
    *,
    default: Any = _MISSING,
    default_factory: Any = _MISSING,
    init: bool = True,
    repr: bool = True,
    compare: bool = True,
) -> Any:
    """Declare a field as :func:`dataclasses.field` does (these five options)."""
    return Field(default, default_factory, init, repr, compare)


@overload
def record(cls: C, /) -> C: ...


@overload
def record(*, frozen: bool = False) -> Callable[[C], C]: ...


@dataclass_transform(field_specifiers=(field, Field))
def record(cls: Any = None, /, *, frozen: bool = False) -> Any:
    """Make ``cls`` a record class (used as ``@record`` or ``@record(frozen=True)``)."""

    def wrap(cls: Any) -> Any:
        return _build(cls, frozen)

    return wrap if cls is None else wrap(cls)


def replace(obj: R, /, **changes: Any) -> R:
    """A copy of the record ``obj`` with ``changes`` (as :func:`dataclasses.replace`)."""
    for f in getattr(obj, "__record_fields__"):  # noqa: B009 - set on the class by record
        if f.init and f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    made: R = obj.__class__(**changes)
    return made


def _build(cls: Any, frozen: bool) -> Any:
    fields: list[Field] = []
    # Not inspect.get_annotations: importing inspect is the cost this module avoids.
    annotations = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
    for name, annotation in annotations.items():
        if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
            continue
        declared = cls.__dict__.get(name, _MISSING)
        f = declared if isinstance(declared, Field) else Field(default=declared)
        f.name = name
        fields.append(f)
        if isinstance(declared, Field):  # the class attribute is the default, or nothing
            if f.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
    cls.__init__ = _init(cls, fields)
    field_names = frozenset(f.name for f in fields)
    compared = _getter([f.name for f in fields if f.compare])
    if "__repr__" not in cls.__dict__:
        shown = [f.name for f in fields if f.repr]

        def __repr__(self: Any) -> str:
            inside = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
            return f"{self.__class__.__qualname__}({inside})"

        cls.__repr__ = __repr__
    if "__eq__" not in cls.__dict__:

        def __eq__(self: Any, other: Any) -> Any:
            if other.__class__ is not self.__class__:
                return NotImplemented
            return compared(self) == compared(other)

        cls.__eq__ = __eq__
    if frozen:

        def __setattr__(self: Any, name: str, value: Any) -> None:
            if self.__class__ is cls or name in field_names:
                raise FrozenInstanceError(f"cannot assign to field {name!r}")
            object.__setattr__(self, name, value)

        def __delattr__(self: Any, name: str) -> None:
            if self.__class__ is cls or name in field_names:
                raise FrozenInstanceError(f"cannot delete field {name!r}")
            object.__delattr__(self, name)

        cls.__setattr__, cls.__delattr__ = __setattr__, __delattr__
        if "__hash__" not in cls.__dict__:
            cls.__hash__ = lambda self: hash(compared(self))
    elif "__hash__" not in cls.__dict__:
        cls.__hash__ = None  # mutable and compared by value: unhashable, as a dataclass
    for method in ("__init__", "__repr__", "__eq__", "__setattr__", "__delattr__", "__hash__"):
        function = cls.__dict__.get(method)
        if function is not None and function.__qualname__.startswith("_"):
            function.__qualname__ = f"{cls.__qualname__}.{method}"
    cls.__record_fields__ = tuple(fields)
    return cls


def _getter(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    """The values of ``names`` of an object, as a tuple."""
    if len(names) >= 2:
        return operator.attrgetter(*names)
    if names:
        one = operator.attrgetter(names[0])
        return lambda obj: (one(obj),)
    return lambda obj: ()


def _init(cls: Any, fields: list[Field]) -> Callable[..., None]:
    """``__init__``: the fields' values written straight into the instance's dict."""
    given = [f for f in fields if f.init]
    order = [f.name for f in given]
    accepted = frozenset(order)
    defaults = {f.name: f.default for f in given if f.default is not _MISSING}
    factories = [(f.name, f.default_factory) for f in given if f.default_factory is not _MISSING]
    derived = [f for f in fields if not f.init]
    post_init = "__post_init__" in cls.__dict__
    name = cls.__qualname__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        values = dict(defaults)
        if args:
            if len(args) > len(order):
                raise TypeError(f"{name}() takes {len(order)} arguments, {len(args)} were given")
            values.update(zip(order, args, strict=False))
        if kwargs:
            if not accepted.issuperset(kwargs):
                unknown = next(k for k in kwargs if k not in accepted)
                raise TypeError(f"{name}() got an unexpected keyword argument {unknown!r}")
            twice = [k for k in order[: len(args)] if k in kwargs]
            if twice:
                raise TypeError(f"{name}() got multiple values for argument {twice[0]!r}")
            values.update(kwargs)
        for key, factory in factories:
            if key not in values:
                values[key] = factory()
        if len(values) < len(order):  # only the accepted names are in values
            missing = next(k for k in order if k not in values)
            raise TypeError(f"{name}() missing required argument {missing!r}")
        for f in derived:
            if f.default_factory is not _MISSING:
                values[f.name] = f.default_factory()
            elif f.default is not _MISSING:
                values[f.name] = f.default
        self.__dict__.update(values)
        if post_init:
            self.__post_init__()

    return __init__
