"""``@record`` gives a class what ``@dataclass`` gives it: each feature the model and engine classes use,
checked on twin classes, one made by each."""
from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from dataclasses import dataclass, field
from typing import ClassVar

import pytest

from lintimg.records import record


def twins(body: str, frozen: bool = False) -> tuple[type, type]:
    """The class ``body`` defines, made once by ``@dataclass`` and once by ``@record`` (same name, same module)."""
    made = []
    for deco in (dataclass(frozen=frozen), record(frozen=frozen)):
        ns = {"field": field, "ClassVar": ClassVar, "__name__": __name__}
        exec(f"class Twin:\n{body}", ns)  # noqa: S102 - test source
        made.append(deco(ns["Twin"]))
    return made[0], made[1]


PLAIN = """
    a: int
    b: str = "x"
    c: list[int] = field(default_factory=list)
    d: float = field(default=1.5, repr=False)
    e: dict[str, int] = field(default_factory=dict, compare=False)
    f: int = field(default=0, init=False)
    g: ClassVar[int] = 7
"""


@pytest.mark.parametrize("frozen", [False, True])
def test_signature_defaults_and_class_attributes_are_the_dataclass_ones(frozen):
    dc, rc = twins(PLAIN, frozen)
    assert str(inspect.signature(dc)) == str(inspect.signature(rc))
    assert dc.__match_args__ == rc.__match_args__ == ("a", "b", "c", "d", "e")
    for name in "abcdefg":
        assert hasattr(dc, name) == hasattr(rc, name), name
        if hasattr(dc, name):
            assert getattr(dc, name) == getattr(rc, name)
    x, y = dc(1), rc(1)
    assert vars(x) == vars(y)
    assert rc(1).c is not rc(1).c  # a fresh list per instance
    assert repr(x) == repr(y) == "Twin(a=1, b='x', c=[], e={}, f=0)"
    assert repr(rc(2, "y", [3])) == repr(dc(2, "y", [3]))


@pytest.mark.parametrize("frozen", [False, True])
def test_equality_and_hash_follow_the_compared_fields(frozen):
    dc, rc = twins(PLAIN, frozen)
    for cls in (dc, rc):
        assert cls(1) == cls(1) and cls(1) != cls(2) and cls(1, "y") != cls(1)
        assert cls(1, e={"k": 1}) == cls(1)  # compare=False
        assert cls(1) != dc(1) if cls is rc else cls(1) != rc(1)  # another class: never equal
        assert cls(1).__eq__(object()) is NotImplemented
    if frozen:
        for cls in (dc, rc):
            assert hash(cls(1, c=())) == hash(cls(1, c=(), e={"k": 2}))
            assert len({cls(1, c=()), cls(1, c=()), cls(2, c=())}) == 2
    else:
        assert dc.__hash__ is None and rc.__hash__ is None
        with pytest.raises(TypeError):
            hash(rc(1))


def test_a_frozen_record_refuses_assignment_and_deletion_as_a_dataclass_does():
    dc, rc = twins(PLAIN, frozen=True)
    for cls in (dc, rc):
        x = cls(1)
        with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'a'"):
            x.a = 2
        with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'z'"):
            x.z = 2
        with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'a'"):
            del x.a
        assert copy.deepcopy(x) == x


def test_methods_the_class_defines_win_and_post_init_runs():
    body = """
    a: int
    seen: list[int] = field(default_factory=list, init=False)

    def __post_init__(self):
        self.seen.append(self.a)

    def __repr__(self):
        return "mine"

    def __eq__(self, other):
        return True

    def __hash__(self):
        return 5
"""
    for cls in twins(body, frozen=False):
        x = cls(3)
        assert x.seen == [3] and repr(x) == "mine" and x == object() and hash(x) == 5


def test_defaults_must_precede_and_be_immutable_as_with_dataclass():
    with pytest.raises(TypeError, match="non-default argument 'b'"):
        twins("    a: int = 1\n    b: int\n")
    with pytest.raises(ValueError, match="mutable default"):
        twins("    a: list = []\n")


def test_a_recursive_repr_does_not_loop():
    dc, rc = twins("    a: int\n    other: object = None\n")
    for cls in (dc, rc):
        x = cls(1)
        x.other = x
        assert repr(x) == "Twin(a=1, other=...)"


@record(frozen=True)
class Frozen:
    a: int
    b: tuple[int, ...] = ()


@record
class Mutable:
    a: int
    b: list[int] = field(default_factory=list)


def test_records_pickle_and_copy_as_dataclasses_do():
    """The fleet sends findings' models between processes; a frozen record is rebuilt without assigning to it."""
    for x in (Frozen(1, (2,)), Mutable(1, [2])):
        assert pickle.loads(pickle.dumps(x)) == x and copy.copy(x) == x and copy.deepcopy(x) == x
