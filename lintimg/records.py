"""``@record``: a :func:`dataclasses.dataclass` for the model and engine classes that costs one small compile.

On Python before 3.13, ``@dataclass`` compiles every method it generates
separately (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``,
``__setattr__``, ``__delattr__``): about a millisecond per class, and the
Dockerfile path defines some sixty classes, so a pre-commit run over edited
files spent an eighth of its CPU building classes. ``@record`` compiles
``__init__`` alone (the one method whose speed matters per object) and gives
the others as shared functions over the class's field names. What a class
gets is what ``@dataclass`` would give it, for the features used here:

- fields from the class's own annotations, in order, ``ClassVar`` left out;
  defaults, and :func:`dataclasses.field` with ``default``,
  ``default_factory``, ``init``, ``repr`` and ``compare``;
- ``__init__`` with the same parameters and defaults, ``__post_init__`` called;
- ``__repr__`` (``Name(a=1, b='x')``, recursion-safe) over the ``repr`` fields;
- ``__eq__``: same class and equal tuples of the ``compare`` fields; ``__hash__``
  of that tuple when frozen, ``None`` when not (unless the class defines one);
- ``frozen=True``: assigning or deleting a field raises
  :class:`dataclasses.FrozenInstanceError`;
- a method the class defines itself is kept; ``__match_args__`` is set.

A record is not a dataclass: :func:`dataclasses.fields`, ``replace`` and
``asdict`` do not take it. Classes that need those (the findings, which the
results cache encodes field by field, and ``RunInfo``) stay dataclasses.
``tests/test_records.py`` holds every feature against ``@dataclass``.
"""
from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:
    def dataclass_transform(**_: Any) -> Callable[[Any], Any]:
        return lambda f: f

T = TypeVar("T", bound=type)
_MISSING = dataclasses.MISSING


class _Factory:
    def __repr__(self) -> str:
        return "<factory>"  # how a signature shows a default_factory parameter, as with @dataclass


# What the generated __init__ sees besides its defaults (the names @dataclass gives them).
_INIT_GLOBALS = {"_HAS_DEFAULT_FACTORY": _Factory(), "__object_setattr": object.__setattr__}


@overload
def record(cls: T, /) -> T: ...
@overload
def record(*, frozen: bool = False) -> Callable[[T], T]: ...
@dataclass_transform(field_specifiers=(dataclasses.field,))
def record(cls: Any = None, /, *, frozen: bool = False) -> Any:
    """The class with ``@dataclass``'s methods (see the module docstring); ``@record`` or ``@record(frozen=True)``."""
    if cls is None:
        return lambda c: _build(c, frozen)
    return _build(cls, frozen)


class _Field:
    __slots__ = ("name", "default", "factory", "init", "repr", "compare")

    def __init__(self, name: str, value: Any) -> None:
        self.name = name
        if isinstance(value, dataclasses.Field):
            self.default, self.factory = value.default, value.default_factory
            self.init, self.repr, self.compare = value.init, value.repr, value.compare
        else:
            self.default, self.factory = value, _MISSING
            self.init = self.repr = self.compare = True
        if self.default is not _MISSING and type(self.default).__hash__ is None:
            raise ValueError(f"mutable default {type(self.default)} for field {name} is not allowed: use default_factory")


def _is_classvar(annotation: Any) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar"))


def _build(cls: Any, frozen: bool) -> Any:
    own = cls.__dict__  # a live view: read what the class body defined before adding to it
    class_hash = own.get("__hash__", _MISSING)  # None when the body defines __eq__ alone
    explicit_hash = not (class_hash is _MISSING or (class_hash is None and "__eq__" in own))
    fields = [_Field(n, own.get(n, _MISSING)) for n, a in own.get("__annotations__", {}).items() if not _is_classvar(a)]
    for f in fields:  # as @dataclass leaves them: the plain default on the class, nothing for the rest
        if f.default is _MISSING:
            if f.name in own:
                delattr(cls, f.name)
        else:
            setattr(cls, f.name, f.default)
    _set(cls, "__init__", _init(cls, fields, frozen))
    shown = tuple(f.name for f in fields if f.repr)
    _set(cls, "__repr__", _repr(shown))
    compared = tuple(f.name for f in fields if f.compare)
    key = attrgetter(*compared) if len(compared) > 1 else (lambda o: (getattr(o, compared[0]),)) if compared else (lambda o: ())
    _set(cls, "__eq__", _eq(key))
    if not explicit_hash:
        cls.__hash__ = _hash(key) if frozen else None
    if frozen:
        names = frozenset(f.name for f in fields)
        for name, method in (("__setattr__", _frozen_setattr(cls, names)), ("__delattr__", _frozen_delattr(cls, names))):
            if name in own:
                raise TypeError(f"Cannot overwrite attribute {name} in class {cls.__name__}")
            setattr(cls, name, method)
    _set(cls, "__match_args__", tuple(f.name for f in fields if f.init))
    return cls


def _set(cls: Any, name: str, value: Any) -> None:
    if name not in cls.__dict__:  # a method the class writes itself wins, as with @dataclass
        if callable(value):
            value.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, value)


def _init(cls: Any, fields: list[_Field], frozen: bool) -> Any:
    """``__init__``, compiled from its text as ``@dataclass`` writes it (defaults are the function's own)."""
    names: dict[str, Any] = {}
    params, body = ["self"], []
    seen_default = False
    for f in fields:
        if f.init:
            if f.default is not _MISSING:
                names[f"_dflt_{f.name}"] = f.default
                params.append(f"{f.name}=_dflt_{f.name}")
                seen_default = True
            elif f.factory is not _MISSING:
                params.append(f"{f.name}=_HAS_DEFAULT_FACTORY")
                seen_default = True
            elif seen_default:
                raise TypeError(f"non-default argument {f.name!r} follows default argument")
            else:
                params.append(f.name)
        if f.factory is not _MISSING:
            names[f"_factory_{f.name}"] = f.factory
            value = f"_factory_{f.name}() if {f.name} is _HAS_DEFAULT_FACTORY else {f.name}" if f.init else f"_factory_{f.name}()"
        elif f.init:
            value = f.name
        else:
            continue  # init=False without a factory: the class attribute (the default, if any) answers, as with @dataclass
        body.append(f"__object_setattr(self, {f.name!r}, {value})" if frozen else f"self.{f.name} = {value}")
    if hasattr(cls, "__post_init__"):
        body.append("self.__post_init__()")
    lines = "\n".join(f"  {b}" for b in body or ["pass"])
    text = f"def __create__({', '.join(names)}):\n def __init__({', '.join(params)}):\n{lines}\n return __init__"
    ns: dict[str, Any] = {}
    exec(text, dict(_INIT_GLOBALS), ns)  # noqa: S102 - our own text, from the class's field names
    init: Any = ns["__create__"](**names)
    annotations = cls.__dict__.get("__annotations__", {})
    init.__annotations__ = {**{f.name: annotations[f.name] for f in fields if f.init}, "return": None}
    return init


def _repr(names: tuple[str, ...]) -> Callable[[Any], str]:
    @reprlib.recursive_repr()
    def __repr__(self: Any) -> str:
        return f"{type(self).__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in names)})"
    return __repr__


def _eq(key: Callable[[Any], Any]) -> Callable[[Any, Any], Any]:
    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented
    return __eq__


def _hash(key: Callable[[Any], Any]) -> Callable[[Any], int]:
    def __hash__(self: Any) -> int:
        return hash(key(self))
    return __hash__


def _frozen_setattr(cls: Any, names: frozenset[str]) -> Callable[[Any, str, Any], None]:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)
    return __setattr__


def _frozen_delattr(cls: Any, names: frozenset[str]) -> Callable[[Any, str], None]:
    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)
    return __delattr__
