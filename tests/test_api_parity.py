"""`import philoxinit as init` replaces torch.nn.init: names, signatures, errors, warnings, returns."""

import inspect
import warnings

import pytest
import torch
import torch.nn.init as tinit

import philoxinit as P
from philoxinit._compat import nn_init_names


def test_every_torch_name_exists():
    missing = [n for n in nn_init_names() if not hasattr(P, n)]
    assert missing == []


@pytest.mark.parametrize("name", nn_init_names())
def test_positional_parameters_and_defaults_match(name):
    ours = inspect.signature(getattr(P, name)).parameters
    theirs = inspect.signature(getattr(tinit, name)).parameters
    positional = lambda ps: [  # noqa: E731
        (p.name, p.default) for p in ps.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    assert positional(ours) == positional(theirs)
    extra = [p for p in ours.values() if p.name not in theirs]
    assert all(p.kind == p.KEYWORD_ONLY for p in extra), extra


EXTRAS = {"seed": None, "stream": 0, "offset": 0, "global_shape": None, "global_offset": None}
RANDOM_NAMES = [
    "uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
    "kaiming_normal_", "variance_scaling_", "lecun_uniform_", "lecun_normal_", "random_bits_",
]  # fmt: skip


@pytest.mark.parametrize("name", RANDOM_NAMES)
def test_every_random_function_lists_the_extras_keyword_only(name):
    ps = inspect.signature(getattr(P, name)).parameters
    assert not any(p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) for p in ps.values())
    extras = {n: p.default for n, p in ps.items() if p.kind == p.KEYWORD_ONLY}
    want = dict(EXTRAS, seed=inspect.Parameter.empty) if name == "random_bits_" else EXTRAS  # seed required
    assert extras == want


@pytest.mark.parametrize("name", RANDOM_NAMES)
def test_a_misspelt_keyword_is_reported_against_the_function_called(name):
    t = torch.empty(4, 4, dtype=torch.int32 if name == "random_bits_" else torch.float32)
    with pytest.raises(TypeError, match=rf"^{name}\(\) got an unexpected keyword argument 'sed'$"):
        getattr(P, name)(t, sed=1)


@pytest.mark.parametrize("name", [n for n in RANDOM_NAMES if n != "random_bits_"])
def test_philoxinits_own_errors_name_the_function_called(name):
    t = torch.zeros(4, 4)
    for kwargs, fragment in (
        ({"stream": -1}, "stream must be in 0..2**64-1"),
        ({"offset": 0.5}, "offset must be an int"),
        ({"seed": 1, "generator": torch.Generator()}, "either seed= or generator="),
        ({"global_offset": (0, 0)}, "global_offset needs global_shape"),
    ):
        with pytest.raises((TypeError, ValueError)) as info:
            getattr(P, name)(t, **kwargs)
        assert str(info.value).startswith(f"philoxinit.{name}: ") and fragment in str(info.value)
    assert (t == 0).all()


def test_a_cached_scale_never_hides_an_error():
    """kaiming_*'s scale is kept per (shape, mode, nonlinearity, a): a = 1 works, a = True
    (equal to 1, same hash) must still raise torch's error, every time."""
    for fn in ("kaiming_uniform_", "kaiming_normal_"):
        getattr(P, fn)(torch.empty(3, 4), a=1)
        for _ in range(2):
            ours = outcome(getattr(P, fn), torch.empty(3, 4), a=True)
            assert ours == outcome(getattr(tinit, fn), torch.empty(3, 4), a=True)
            assert ours[0] is ValueError
        for _ in range(2):  # unhashable: never cached, torch's error
            ours = outcome(getattr(P, fn), torch.empty(3, 4), a=[1])
            assert ours == outcome(getattr(tinit, fn), torch.empty(3, 4), a=[1])


def outcome(fn, *args, **kwargs):
    """(exception type, message) or ('ok', warnings) of one call."""
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001
            return type(e), str(e)
    return "ok", [(x.category, str(x.message)) for x in w]


BAD_CALLS = [
    ("kaiming_uniform_", lambda: torch.empty(5), {}),
    ("kaiming_normal_", lambda: torch.empty(5), {}),
    ("xavier_uniform_", lambda: torch.empty(5), {}),
    ("xavier_normal_", lambda: torch.empty(5), {}),
    ("kaiming_uniform_", lambda: torch.empty(3, 4), {"mode": "fan_middle"}),
    ("kaiming_normal_", lambda: torch.empty(3, 4), {"nonlinearity": "swish"}),
    ("kaiming_uniform_", lambda: torch.empty(3, 4), {"a": "steep"}),
    ("kaiming_uniform_", lambda: torch.empty(3, 0), {}),
    ("kaiming_normal_", lambda: torch.empty(0, 3), {}),
    ("kaiming_uniform_", lambda: torch.empty(3, 4, dtype=torch.int32), {}),
    ("kaiming_normal_", lambda: torch.empty(3, 4, dtype=torch.int64), {}),
    ("uniform_", lambda: torch.empty(3), {"a": 1.0, "b": 0.0}),
    ("uniform_", lambda: torch.empty(3, dtype=torch.int16), {}),
    ("uniform_", lambda: torch.empty(3, dtype=torch.bool), {}),
    ("uniform_", lambda: torch.empty(3, dtype=torch.float16), {"a": 0.0, "b": 1e6}),
    ("uniform_", lambda: torch.empty(3), {"a": -3e38, "b": 3e38}),
    ("normal_", lambda: torch.empty(3), {"std": -1.0}),
    ("normal_", lambda: torch.empty(3), {"std": float("nan")}),
    ("normal_", lambda: torch.empty(3, dtype=torch.int64), {}),
    ("trunc_normal_", lambda: torch.empty(3, dtype=torch.int64), {}),
    ("uniform_", lambda: torch.empty(3).expand(4, 3), {}),
    ("normal_", lambda: torch.empty(3).expand(2, 3), {}),
    ("trunc_normal_", lambda: torch.empty(3, 3), {"mean": 5.0}),
    ("calculate_gain", lambda: "bogus", {}),
    ("calculate_gain", lambda: "leaky_relu", {"param": True}),
    ("eye_", lambda: torch.empty(3), {}),
    ("dirac_", lambda: torch.empty(3, 3), {}),
    ("orthogonal_", lambda: torch.empty(3), {}),
    ("sparse_", lambda: torch.empty(3), {"sparsity": 0.1}),
]


def _torch_trunc_draws_normal_first() -> bool:
    try:
        tinit.trunc_normal_(torch.empty(1, dtype=torch.int64))
    except Exception as e:  # noqa: BLE001
        return "normal" in str(e)
    return True


@pytest.mark.parametrize("name,make,kwargs", BAD_CALLS, ids=[f"{c[0]}-{i}" for i, c in enumerate(BAD_CALLS)])
def test_same_errors_and_warnings_as_torch(name, make, kwargs):
    if name == "trunc_normal_" and not make().is_floating_point() and not _torch_trunc_draws_normal_first():
        pytest.skip(
            "this torch's trunc_normal_ draws through uniform_ (as 2.4 does), so its dtype error "
            "names check_uniform_bounds; philoxinit's names normal_kernel_cpu, as 2.13 does"
        )
    ours = outcome(getattr(P, name), make(), **kwargs)
    theirs = outcome(getattr(tinit, name), make(), **kwargs)
    assert ours == theirs


@pytest.mark.parametrize(
    "name", ["uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
             "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse"],
)  # fmt: skip
def test_deprecated_aliases_warn_like_torch(name):
    args = {"constant": (0.5,), "sparse": (0.1,)}.get(name, ())
    shape = (3, 4, 5) if name == "dirac" else (4, 5)
    with pytest.warns(FutureWarning, match=f"`nn.init.{name}` is now deprecated in favor of `nn.init.{name}_`"):
        getattr(P, name)(torch.empty(shape), *args)


RANDOM_FNS = [
    ("uniform_", ()),
    ("normal_", ()),
    ("trunc_normal_", ()),
    ("xavier_uniform_", ()),
    ("xavier_normal_", ()),
    ("kaiming_uniform_", ()),
    ("kaiming_normal_", ()),
    ("variance_scaling_", ()),
    ("lecun_normal_", ()),
    ("lecun_uniform_", ()),
]


@pytest.mark.parametrize("name,args", RANDOM_FNS)
def test_returns_its_tensor_and_works_on_parameters(name, args):
    p = torch.nn.Parameter(torch.zeros(16, 8))
    version = p._version
    out = getattr(P, name)(p, *args)
    assert out is p and p.requires_grad and p.grad_fn is None
    assert p._version > version and (p != 0).any()


@pytest.mark.parametrize("name,args", RANDOM_FNS)
def test_meta_tensors_come_back_untouched_without_advancing_the_generator(name, args):
    t = torch.empty(16, 8, device="meta")
    g = torch.Generator().manual_seed(1)
    state = g.get_state()
    assert getattr(P, name)(t, *args, generator=g) is t
    assert torch.equal(g.get_state(), state)


def test_meta_tensors_are_validated():
    with pytest.raises(RuntimeError, match="std >= 0.0"):
        P.normal_(torch.empty(3, device="meta"), 0.0, -1.0)


def test_errors_do_not_advance_the_generator_or_touch_the_tensor():
    g = torch.Generator().manual_seed(1)
    state = g.get_state()
    t = torch.zeros(4, 4)
    for bad in (
        lambda: P.uniform_(t, 1.0, 0.0, generator=g),
        lambda: P.normal_(t, 0.0, float("inf"), generator=g),
        lambda: P.trunc_normal_(t, 0.0, -1.0, generator=g),
        lambda: P.trunc_normal_(t, 0.0, 1.0, 2.0, -2.0, generator=g),
        lambda: P.kaiming_uniform_(t, mode="sideways", generator=g),
        lambda: P.uniform_(t, stream=-1, generator=g),
        lambda: P.uniform_(t, offset=1 << 64, generator=g),
        lambda: P.uniform_(t, seed=1.5),
        lambda: P.uniform_(t, seed=-1),
    ):
        with pytest.raises((ValueError, RuntimeError, TypeError)):
            bad()
    assert torch.equal(g.get_state(), state) and (t == 0).all()


def test_bad_input_errors_are_clear():
    t = torch.zeros(4, 4)
    with pytest.raises(ValueError, match="std must be finite"):
        P.normal_(t, 0.0, float("inf"))
    with pytest.raises(ValueError, match="std"):
        P.trunc_normal_(t, 0.0, float("nan"))
    with pytest.raises(ValueError, match="a must be less than b"):
        P.trunc_normal_(t, 0.0, 1.0, 1.0, 1.0)
    with pytest.raises(RuntimeError, match="a must be less than b"):  # torch raises RuntimeError here
        P.trunc_normal_(t, 0.0, 1.0, 2.0, -2.0)
    with pytest.raises(RuntimeError, match="clone"):
        P.uniform_(torch.empty(6).as_strided((3, 3), (1, 1)))
    with pytest.raises(TypeError, match="sparse"):
        P.uniform_(torch.zeros(3, 3).to_sparse())
    with pytest.raises(TypeError, match="int32 or uint32"):
        P.random_bits_(torch.empty(3), seed=1)
    assert (t == 0).all()


def test_generator_and_manual_seed_reproduce_and_successive_calls_differ():
    torch.manual_seed(0)
    a = P.kaiming_uniform_(torch.empty(8, 8))
    b = P.kaiming_uniform_(torch.empty(8, 8))
    torch.manual_seed(0)
    assert torch.equal(a, P.kaiming_uniform_(torch.empty(8, 8)))
    assert not torch.equal(a, b)
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(P.normal_(torch.empty(9), generator=g1), P.normal_(torch.empty(9), generator=g2))


def test_key_draw_is_as_documented():
    g = torch.Generator().manual_seed(42)
    lo, hi = torch.randint(0, 1 << 32, (2,), generator=torch.Generator().manual_seed(42), dtype=torch.int64).tolist()
    assert torch.equal(P.uniform_(torch.empty(33), generator=g), P.uniform_(torch.empty(33), seed=lo | (hi << 32)))


def test_one_call_draws_exactly_one_key_from_the_default_generator():
    torch.manual_seed(7)
    a = P.kaiming_normal_(torch.empty(8, 8))
    lo, hi = torch.randint(0, 1 << 32, (2,), dtype=torch.int64).tolist()  # the next draw
    torch.manual_seed(7)
    lo0, hi0 = torch.randint(0, 1 << 32, (2,), dtype=torch.int64).tolist()
    assert torch.equal(a, P.kaiming_normal_(torch.empty(8, 8), seed=lo0 | (hi0 << 32)))
    torch.manual_seed(7)
    P.kaiming_normal_(torch.empty(8, 8))
    assert torch.randint(0, 1 << 32, (2,), dtype=torch.int64).tolist() == [lo, hi]
