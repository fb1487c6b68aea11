from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parabo import Categorical, Fixed, Float, Int, Space, SpaceError


def test_plain_dict_and_objects_are_the_same_space() -> None:
    a = Space(
        {
            "x": {"type": "float", "low": -5, "high": 10},
            "k": {"type": "int", "low": 1, "high": 4},
            "c": {"type": "categorical", "choices": ["a", "b"]},
            "f": {"type": "fixed", "value": 3},
        }
    )
    b = Space({"x": Float(-5, 10), "k": Int(1, 4), "c": Categorical(["a", "b"]), "f": Fixed(3)})
    assert a == b
    assert a.names == ("x", "k", "c") and a.dim == 3
    assert Space(a.to_dict()) == a


@pytest.mark.parametrize(
    "spec, field, words",
    [
        ({"x": {"type": "float", "low": 1, "high": 1}}, "space.x", "smaller than high"),
        ({"x": {"type": "float", "low": 0, "high": 1, "log": True}}, "space.x.low", "log scale"),
        ({"x": {"type": "int", "low": 0, "high": 5, "log": True}}, "space.x.low", "log scale"),
        ({"x": {"type": "int", "low": 0.5, "high": 5}}, "space.x.low", "integer"),
        ({"x": {"type": "categorical", "choices": []}}, "space.x.choices", "empty"),
        (
            {"x": {"type": "categorical", "choices": ["a", "a"]}},
            "space.x.choices",
            "more than once",
        ),
        ({"x": {"type": "float", "low": 0, "high": 1, "step": 2}}, "space.x.step", "unknown key"),
        ({"x": {"type": "floot", "low": 0, "high": 1}}, "space.x.type", "unknown type"),
        ({"x": {"low": 0, "high": 1}}, "space.x.type", "missing"),
        ({"x": {"type": "float", "low": 0}}, "space.x.high", "missing"),
        ({"x": {"type": "float", "low": "a", "high": 1}}, "space.x.low", "number"),
        ({"x": {"type": "float", "low": 0, "high": float("inf")}}, "space.x.high", "finite"),
        (
            {"x": {"type": "float", "low": 0, "high": 1, "log": "yes"}},
            "space.x.log",
            "true or false",
        ),
        ({}, "space", "no parameters"),
        ({"x": 1}, "space", "every parameter is fixed"),
    ],
)
def test_invalid_spaces_name_the_field(spec: dict, field: str, words: str) -> None:
    with pytest.raises(SpaceError) as info:
        Space(spec)
    assert info.value.field == field
    assert words in str(info.value)


def test_categorical_keeps_types_apart() -> None:
    c = Categorical([1, True, "1", None, 2.5])
    assert [c.validate(v) for v in (1, True, "1", None, 2.5)] == [1, True, "1", None, 2.5]
    assert c.validate(True) is True


def test_validate_params() -> None:
    s = Space({"x": Float(0, 1), "k": Int(1, 3), "c": Categorical(["a", "b"]), "f": Fixed("v")})
    assert s.validate({"x": 0.5, "k": 2.0, "c": "a"}) == {"x": 0.5, "k": 2, "c": "a", "f": "v"}
    for bad, field in [
        ({"x": 2, "k": 1, "c": "a"}, "x"),
        ({"x": 0.5, "k": 9, "c": "a"}, "k"),
        ({"x": 0.5, "k": 1, "c": "z"}, "c"),
        ({"x": 0.5, "k": 1}, "c"),
    ]:
        with pytest.raises(SpaceError) as info:
            s.validate(bad)
        assert info.value.field == field
    with pytest.raises(SpaceError, match="unknown parameter"):
        s.validate({"x": 0.5, "k": 1, "c": "a", "zz": 1})


def test_log_sampling_is_log_uniform() -> None:
    s = Space({"lr": Float(1e-5, 1e-1, log=True)})
    xs = np.array([p["lr"] for p in s.sample(np.random.default_rng(0), 4000)])
    # a quarter of the log-range below 1e-4
    assert 0.2 < np.mean(xs < 1e-4) < 0.3


finite = st.floats(-1e6, 1e6, allow_nan=False)


@st.composite
def spaces(draw: st.DrawFn) -> Space:
    params = {}
    for i in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["float", "logfloat", "int", "logint", "cat"]))
        if kind == "float":
            lo = draw(finite)
            hi = draw(st.floats(lo + max(abs(lo) * 1e-9, 1e-6), 2e6, allow_nan=False))
            params[f"p{i}"] = Float(lo, hi)
        elif kind == "logfloat":
            lo = draw(st.floats(1e-12, 1e3))
            params[f"p{i}"] = Float(lo, lo * draw(st.floats(1.001, 1e9)), log=True)
        elif kind == "int":
            lo = draw(st.integers(-1000, 1000))
            params[f"p{i}"] = Int(lo, lo + draw(st.integers(1, 10_000)))
        elif kind == "logint":
            lo = draw(st.integers(1, 1000))
            params[f"p{i}"] = Int(lo, lo + draw(st.integers(1, 100_000)), log=True)
        else:
            n = draw(st.integers(1, 6))
            params[f"p{i}"] = Categorical(
                draw(st.lists(st.text(max_size=5), min_size=n, max_size=n, unique=True))
            )
    return Space(params)


@settings(max_examples=150, deadline=None)
@given(spaces(), st.lists(st.floats(0, 1), min_size=5, max_size=5))
def test_unit_cube_round_trip_is_exact(space: Space, us: list[float]) -> None:
    u = np.array((us * 2)[: space.dim])
    params = space.from_unit(u)
    assert space.validate(params) == params  # every point of the cube decodes to valid params
    enc = space.to_unit(params)
    assert np.all((enc >= 0) & (enc <= 1))
    assert space.from_unit(enc) == params  # exact, floats included
    assert np.array_equal(space.to_unit(space.from_unit(enc)), enc)


@settings(max_examples=100, deadline=None)
@given(st.integers(-(10**6), 10**6), st.integers(1, 10**6), st.data())
def test_every_integer_round_trips(lo: int, width: int, data: st.DataObject) -> None:
    p = Int(lo, lo + width)
    i = data.draw(st.integers(lo, lo + width))
    assert p.decode(p.encode(i)) == i
    if lo >= 1:
        q = Int(lo, lo + width, log=True)
        assert q.decode(q.encode(i)) == i


def test_float_edges() -> None:
    p = Float(-5, 10)
    assert p.decode(0.0) == -5 and p.decode(1.0) == 10 and p.decode(-1) == -5 and p.decode(2) == 10
    q = Float(1e-5, 0.1, log=True)
    assert math.isclose(q.decode(0.5), 1e-3, rel_tol=1e-12)
