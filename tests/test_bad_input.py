"""Bad input: a clear error (exception type and a message fragment), the tensor's memory untouched
and no generator advanced, on the compiled kernels and on the fallback alike.

docs/hardening.md holds the same cases as a table. Where torch.nn.init raises for an input, the
same exception is expected (its type and message); where torch accepts nonsense, philoxinit's own
ValueError names the argument (docs/contract.md, DESIGN section 3).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import philoxinit as P

U64 = (1 << 64) - 1
NAN, INF = math.nan, math.inf

pytestmark = [
    pytest.mark.filterwarnings("ignore:mean is more than 2 std"),
    pytest.mark.filterwarnings("ignore:Sparse CSR tensor support"),
    pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]


def f32(*shape):
    return torch.arange(math.prod(shape), dtype=torch.float32).reshape(shape) + 0.5


def expanded():
    return torch.tensor([[1.0], [2.0], [3.0]]).expand(3, 4)


def overlapping():
    return torch.arange(10, dtype=torch.float32).as_strided((3, 3), (2, 1))


def overlapping_same_address():
    return torch.arange(4, dtype=torch.float32).as_strided((2, 2), (1, 1))


def quantized():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.quantize_per_tensor(torch.linspace(-1, 1, 6), 0.1, 0, torch.quint8)


def nested():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.nested.nested_tensor([torch.zeros(2), torch.ones(3)], layout=torch.jagged)


# id -> (make the tensor, the call given (tensor, generator), exception type, message fragment)
def _torch_dtype_error() -> type:
    """What torch raises for a random fill of a dtype its kernels lack: NotImplementedError in
    current releases, RuntimeError in older ones (2.4); philoxinit lets torch raise it."""
    try:
        torch.empty(1, dtype=torch.bool).uniform_()
    except Exception as e:  # noqa: BLE001
        return type(e)
    raise AssertionError("torch filled a bool tensor with uniform_")


DTYPE_ERROR = _torch_dtype_error()

CASES = {
    # memory layout
    "expanded (stride 0)": (expanded, lambda t, g: P.uniform_(t, generator=g), RuntimeError, "clone()"),
    "expanded 0-d": (
        lambda: torch.tensor(2.0).expand(5),
        lambda t, g: P.normal_(t, generator=g),
        RuntimeError,
        "clone()",
    ),
    "as_strided overlap": (overlapping, lambda t, g: P.normal_(t, generator=g), RuntimeError, "clone()"),
    "as_strided same address": (
        overlapping_same_address,
        lambda t, g: P.trunc_normal_(t, generator=g),
        RuntimeError,
        "clone()",
    ),
    "expanded int32 bits": (
        lambda: torch.arange(3, dtype=torch.int32)[:, None].expand(3, 2),
        lambda t, g: P.random_bits_(t, seed=1),
        RuntimeError,
        "clone()",
    ),
    # dtypes (torch's own errors)
    "int32 uniform_": (
        lambda: torch.arange(6, dtype=torch.int32),
        lambda t, g: P.uniform_(t, generator=g),
        DTYPE_ERROR,
        "not implemented for 'Int'",
    ),
    "int64 normal_": (
        lambda: torch.arange(6),
        lambda t, g: P.normal_(t, generator=g),
        DTYPE_ERROR,
        "not implemented for 'Long'",
    ),
    "bool uniform_": (
        lambda: torch.ones(6, dtype=torch.bool),
        lambda t, g: P.uniform_(t, generator=g),
        DTYPE_ERROR,
        "'Bool'",
    ),
    "uint8 trunc_normal_": (
        lambda: torch.arange(6, dtype=torch.uint8),
        lambda t, g: P.trunc_normal_(t, generator=g),
        DTYPE_ERROR,
        "'Byte'",
    ),
    "bool kaiming_uniform_": (
        lambda: torch.ones(3, 4, dtype=torch.bool),
        lambda t, g: P.kaiming_uniform_(t, generator=g),
        DTYPE_ERROR,
        "'Bool'",
    ),
    "float8 uniform_": (
        lambda: torch.zeros(4, dtype=torch.float8_e4m3fn),
        lambda t, g: P.uniform_(t, generator=g),
        DTYPE_ERROR,
        "Float8_e4m3fn",
    ),
    "float32 random_bits_": (lambda: f32(4), lambda t, g: P.random_bits_(t, seed=1), TypeError, "int32 or uint32"),
    "int64 random_bits_": (
        lambda: torch.arange(4),
        lambda t, g: P.random_bits_(t, seed=1),
        TypeError,
        "int32 or uint32",
    ),
    "complex trunc_normal_": (
        lambda: torch.ones(4, dtype=torch.complex64),
        lambda t, g: P.trunc_normal_(t, generator=g),
        TypeError,
        "complex tensors are not supported",
    ),
    # layouts torch has besides strided
    "sparse COO": (
        lambda: f32(3, 3).to_sparse(),
        lambda t, g: P.uniform_(t, generator=g),
        TypeError,
        "sparse_coo tensors are not supported",
    ),
    "sparse CSR": (
        lambda: f32(3, 3).to_sparse_csr(),
        lambda t, g: P.normal_(t, generator=g),
        TypeError,
        "sparse_csr tensors are not supported",
    ),
    "jagged nested": (nested, lambda t, g: P.normal_(t, generator=g), TypeError, "jagged tensors are not supported"),
    "quantized uniform_": (quantized, lambda t, g: P.uniform_(t, generator=g), NotImplementedError, "QuantizedCPU"),
    "quantized normal_": (quantized, lambda t, g: P.normal_(t, generator=g), NotImplementedError, "QuantizedCPU"),
    # uniform bounds (torch's checks)
    "uniform_ a=NaN": (
        lambda: f32(4),
        lambda t, g: P.uniform_(t, NAN, 1.0, generator=g),
        RuntimeError,
        "from is out of bounds",
    ),
    "uniform_ b=NaN": (
        lambda: f32(4),
        lambda t, g: P.uniform_(t, 0.0, NAN, generator=g),
        RuntimeError,
        "to is out of bounds",
    ),
    "uniform_ a=-inf": (
        lambda: f32(4),
        lambda t, g: P.uniform_(t, -INF, 1.0, generator=g),
        RuntimeError,
        "from is out of bounds",
    ),
    "uniform_ b=inf (float64)": (
        lambda: f32(4).double(),
        lambda t, g: P.uniform_(t, 0.0, INF, generator=g),
        RuntimeError,
        "to is out of bounds",
    ),
    "uniform_ b=1e39 (float32)": (
        lambda: f32(4),
        lambda t, g: P.uniform_(t, 0.0, 1e39, generator=g),
        RuntimeError,
        "to is out of bounds for float",
    ),
    "uniform_ b=1e5 (float16)": (
        lambda: f32(4).half(),
        lambda t, g: P.uniform_(t, 0.0, 1e5, generator=g),
        RuntimeError,
        "to is out of bounds for c10::Half",
    ),
    "uniform_ b-a overflows": (
        lambda: f32(4),
        lambda t, g: P.uniform_(t, -3e38, 3e38, generator=g),
        RuntimeError,
        "to-from",
    ),
    "uniform_ a > b": (
        lambda: f32(4),
        lambda t, g: P.uniform_(t, 1.0, 0.0, generator=g),
        RuntimeError,
        "expects to return a [from, to) range",
    ),
    "uniform_ a=str": (
        lambda: f32(4),
        lambda t, g: P.uniform_(t, "0", 1.0, generator=g),
        TypeError,
        "must be float, not str",
    ),
    # normal
    "normal_ std=NaN": (lambda: f32(4), lambda t, g: P.normal_(t, 0.0, NAN, generator=g), RuntimeError, "std >= 0.0"),
    "normal_ std<0": (lambda: f32(4), lambda t, g: P.normal_(t, 0.0, -1.0, generator=g), RuntimeError, "std >= 0.0"),
    "normal_ std=inf": (
        lambda: f32(4),
        lambda t, g: P.normal_(t, 0.0, INF, generator=g),
        ValueError,
        "std must be finite",
    ),
    "normal_ mean=NaN": (
        lambda: f32(4),
        lambda t, g: P.normal_(t, NAN, 1.0, generator=g),
        ValueError,
        "mean must be finite",
    ),
    "normal_ mean=-inf": (
        lambda: f32(4),
        lambda t, g: P.normal_(t, -INF, 1.0, generator=g),
        ValueError,
        "mean must be finite",
    ),
    "kaiming_normal_ bad mode": (
        lambda: f32(3, 4),
        lambda t, g: P.kaiming_normal_(t, mode="fan_x", generator=g),
        ValueError,
        "Mode fan_x not supported",
    ),
    "xavier_uniform_ 1-D": (
        lambda: f32(4),
        lambda t, g: P.xavier_uniform_(t, generator=g),
        ValueError,
        "Fan in and fan out can not be computed",
    ),
    # truncated normal: philoxinit's own ValueErrors, naming the argument
    "trunc_normal_ a > b": (
        lambda: f32(4),
        lambda t, g: P.trunc_normal_(t, 0.0, 1.0, 1.0, -1.0, generator=g),
        ValueError,
        "a must be less than b",
    ),
    "trunc_normal_ a == b": (
        lambda: f32(4),
        lambda t, g: P.trunc_normal_(t, 0.0, 1.0, 1.0, 1.0, generator=g),
        ValueError,
        "a must be less than b",
    ),
    "trunc_normal_ std=NaN": (
        lambda: f32(4),
        lambda t, g: P.trunc_normal_(t, 0.0, NAN, generator=g),
        ValueError,
        "std must not be NaN",
    ),
    "trunc_normal_ std<0": (
        lambda: f32(4),
        lambda t, g: P.trunc_normal_(t, 0.0, -1.0, generator=g),
        ValueError,
        "std must be non-negative",
    ),
    "trunc_normal_ std=inf": (
        lambda: f32(4),
        lambda t, g: P.trunc_normal_(t, 0.0, INF, generator=g),
        ValueError,
        "mean and std must be finite",
    ),
    "trunc_normal_ mean=NaN": (
        lambda: f32(4),
        lambda t, g: P.trunc_normal_(t, NAN, 1.0, generator=g),
        ValueError,
        "mean must not be NaN",
    ),
    "trunc_normal_ mean=inf": (
        lambda: f32(4),
        lambda t, g: P.trunc_normal_(t, INF, 1.0, generator=g),
        ValueError,
        "mean and std must be finite",
    ),
    "trunc_normal_ a=NaN": (
        lambda: f32(4),
        lambda t, g: P.trunc_normal_(t, 0.0, 1.0, NAN, 2.0, generator=g),
        ValueError,
        "a must not be NaN",
    ),
    "trunc_normal_ b=NaN": (
        lambda: f32(4),
        lambda t, g: P.trunc_normal_(t, 0.0, 1.0, -2.0, NAN, generator=g),
        ValueError,
        "b must not be NaN",
    ),
    "trunc_normal_ 20 sigma (float32)": (
        lambda: f32(4),
        lambda t, g: P.trunc_normal_(t, 0.0, 1.0, 20.0, 21.0, generator=g),
        ValueError,
        "standard deviations",
    ),
    "trunc_normal_ 40 sigma (float64)": (
        lambda: f32(4).double(),
        lambda t, g: P.trunc_normal_(t, 0.0, 1.0, -41.0, -40.0, generator=g),
        ValueError,
        "standard deviations",
    ),
    # keys, streams, offsets
    "seed=-1": (lambda: f32(4), lambda t, g: P.uniform_(t, seed=-1), ValueError, "seed must be in 0..2**64-1"),
    "seed=2**64": (lambda: f32(4), lambda t, g: P.uniform_(t, seed=1 << 64), ValueError, "seed must be in 0..2**64-1"),
    "seed=1.0": (lambda: f32(4), lambda t, g: P.uniform_(t, seed=1.0), TypeError, "seed must be an int"),
    "seed=True": (lambda: f32(4), lambda t, g: P.uniform_(t, seed=True), TypeError, "seed must be an int"),
    "seed='1'": (lambda: f32(4), lambda t, g: P.uniform_(t, seed="1"), TypeError, "seed must be an int"),
    "seed=np.float64(1)": (
        lambda: f32(4),
        lambda t, g: P.uniform_(t, seed=np.float64(1)),
        TypeError,
        "seed must be an int",
    ),
    "seed=torch.tensor(1)": (
        lambda: f32(4),
        lambda t, g: P.uniform_(t, seed=torch.tensor(1)),
        TypeError,
        "seed must be an int",
    ),
    "stream=-1": (
        lambda: f32(4),
        lambda t, g: P.normal_(t, generator=g, stream=-1),
        ValueError,
        "stream must be in 0..2**64-1",
    ),
    "stream=2**64": (
        lambda: f32(4),
        lambda t, g: P.normal_(t, generator=g, stream=1 << 64),
        ValueError,
        "stream must be in 0..2**64-1",
    ),
    "stream=0.5": (
        lambda: f32(4),
        lambda t, g: P.normal_(t, generator=g, stream=0.5),
        TypeError,
        "stream must be an int",
    ),
    "stream=None": (
        lambda: f32(4),
        lambda t, g: P.normal_(t, generator=g, stream=None),
        TypeError,
        "stream must be an int",
    ),
    "offset=-1": (
        lambda: f32(4),
        lambda t, g: P.trunc_normal_(t, generator=g, offset=-1),
        ValueError,
        "offset must be in 0..2**64-1",
    ),
    "offset=2**70": (
        lambda: f32(4),
        lambda t, g: P.trunc_normal_(t, generator=g, offset=1 << 70),
        ValueError,
        "offset must be in 0..2**64-1",
    ),
    "offset=False": (
        lambda: f32(4),
        lambda t, g: P.trunc_normal_(t, generator=g, offset=False),
        TypeError,
        "offset must be an int",
    ),
    "bits: stream=2**64": (
        lambda: torch.zeros(4, dtype=torch.int32),
        lambda t, g: P.random_bits_(t, seed=1, stream=1 << 64),
        ValueError,
        "stream must be in",
    ),
    "random_bits_ seed=None": (
        lambda: torch.zeros(4, dtype=torch.int32),
        lambda t, g: P.random_bits_(t, seed=None),
        TypeError,
        "needs seed=",
    ),
    "seed= and generator=": (
        lambda: f32(4),
        lambda t, g: P.uniform_(t, seed=1, generator=g),
        ValueError,
        "either seed= or generator=",
    ),
    # global boxes
    "global_offset without global_shape": (
        lambda: f32(2, 2),
        lambda t, g: P.uniform_(t, generator=g, global_offset=(0, 0)),
        ValueError,
        "global_offset needs global_shape",
    ),
    "global_shape wrong rank": (
        lambda: f32(2, 2),
        lambda t, g: P.uniform_(t, generator=g, global_shape=(4,)),
        ValueError,
        "one entry per dim",
    ),
    "global_offset < 0": (
        lambda: f32(2, 2),
        lambda t, g: P.uniform_(t, generator=g, global_shape=(4, 4), global_offset=(-1, 0)),
        ValueError,
        "does not fit",
    ),
    "box past global_shape": (
        lambda: f32(2, 2),
        lambda t, g: P.normal_(t, generator=g, global_shape=(4, 4), global_offset=(3, 0)),
        ValueError,
        "does not fit",
    ),
    "global_shape past 2**62 elements": (
        lambda: f32(2, 2),
        lambda t, g: P.uniform_(t, generator=g, global_shape=(1 << 40, 1 << 40), global_offset=((1 << 40) - 2, 0)),
        ValueError,
        "global_shape",
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_raises_clearly_and_touches_nothing(case, backend_name):
    make, call, exc, fragment = CASES[case]
    t = make()
    before = snapshot(t)
    g = torch.Generator().manual_seed(1234)
    g_state, default_state = g.get_state(), torch.default_generator.get_state()
    with pytest.raises(exc) as info:
        call(t, g)
    assert fragment in str(info.value), str(info.value)
    assert snapshot(t) == before, "the tensor changed"
    assert torch.equal(g.get_state(), g_state), "the generator advanced"
    assert torch.equal(torch.default_generator.get_state(), default_state), "the default generator advanced"


def snapshot(t: torch.Tensor) -> bytes:
    """The bytes of the memory the tensor can reach (for views: the whole storage)."""
    if t.layout == torch.sparse_coo:
        return snapshot(t._indices()) + snapshot(t._values())
    if t.layout == torch.sparse_csr:
        return snapshot(t.crow_indices()) + snapshot(t.col_indices()) + snapshot(t.values())
    if t.is_nested:
        return b"".join(snapshot(c) for c in t.unbind())
    if t.is_quantized:
        return t.int_repr().numpy().tobytes()
    s = t.untyped_storage()
    return bytes(s)  # the whole storage, so writes outside a view are seen too


# ---- accepted inputs next to the rejected ones ----------------------------------------------------


@pytest.mark.parametrize("value", [np.int64(7), np.uint64(U64), np.int32(3), 0, U64, (1 << 32) + 5], ids=repr)
def test_numpy_and_python_ints_are_accepted_as_keys(value, backend_name):
    want = torch.empty(9)
    P.uniform_(want, seed=int(value), stream=int(value), offset=int(value))
    got = torch.empty(9)
    P.uniform_(got, seed=value, stream=value, offset=value)
    assert torch.equal(got, want)


def test_meta_tensors_validate_then_do_nothing(backend_name):
    t = torch.empty(3, 4, device="meta")
    state = torch.default_generator.get_state()
    assert P.kaiming_uniform_(t) is t
    assert P.trunc_normal_(t, 0.0, 1.0, -1.0, 1.0) is t
    with pytest.raises(RuntimeError, match="to is out of bounds"):
        P.uniform_(t, 0.0, NAN)
    with pytest.raises(ValueError, match="a must be less than b"):
        P.trunc_normal_(t, 0.0, 1.0, 1.0, -1.0)
    with pytest.raises(RuntimeError, match="clone()"):
        P.uniform_(torch.empty(3, 1, device="meta").expand(3, 4))
    assert torch.equal(torch.default_generator.get_state(), state)


def test_huge_finite_normal_std_overflows_as_torch_does(backend_name):
    """std = 1e300 on float32 is accepted (torch accepts it too) and writes +-inf, never NaN."""
    t = torch.empty(64)
    P.normal_(t, 0.0, 1e300, seed=3)
    unit = P.normal_(torch.empty(64), seed=3)
    assert bool(torch.isinf(t).all())
    assert torch.equal(torch.sign(t), torch.sign(unit))


@pytest.mark.parametrize("mean,std", [(0.0, 1e300), (0.0, 3.5e38), (1e300, 1e300)])
def test_trunc_normal_huge_std_stays_in_bounds(mean, std, backend_name):
    """trunc_normal_ promises round(a) <= v <= round(b) for every stored value: a std (or mean)
    past float32's range must either raise a ValueError or still give values in [a, b]."""
    t = torch.zeros(16)
    try:
        P.trunc_normal_(t, mean, std, -2.0, 2.0, seed=1)
    except ValueError:
        return
    assert bool(((t >= -2.0) & (t <= 2.0)).all()), t


def test_inference_tensor_outside_inference_mode_raises_like_torch(backend_name):
    with torch.inference_mode():
        t = torch.zeros(3)
        theirs = torch.zeros(3)
    with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside InferenceMode"):
        torch.nn.init.uniform_(theirs)  # (torch writes the values before it raises; philoxinit does not)
    with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside InferenceMode"):
        P.uniform_(t, seed=1)
    assert bool((t == 0).all())


def test_bad_isa_setting_raises_without_advancing_the_generator(monkeypatch):
    if P.backend().name != "compiled":
        pytest.skip("compiled kernels only")
    monkeypatch.setenv("PHILOXINIT_ISA", "no-such-isa")
    t = f32(5)
    g = torch.Generator().manual_seed(5)
    state = g.get_state()
    with pytest.raises(RuntimeError, match="PHILOXINIT_ISA"):
        P.uniform_(t, generator=g)
    assert torch.equal(t, f32(5))
    assert torch.equal(g.get_state(), state), "the generator advanced"


def test_strided_nested_tensor_is_refused_clearly(backend_name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.nested.nested_tensor([torch.zeros(2), torch.ones(3)])
    with pytest.raises((TypeError, NotImplementedError), match="nested|Nested"):
        P.uniform_(t, seed=1)


def test_unsupported_device():
    """Every device a CPU build of torch can create is either compiled (cpu), a validated no-op
    (meta) or filled by the fallback: there is no unsupported device to try here."""
    made = []
    for dev in ("cuda", "mps", "xpu", "hpu", "xla", "lazy", "mtia", "maia", "privateuseone", "ve", "ipu"):
        try:
            made.append(torch.empty(4, device=dev))
        except Exception:
            pass
    if not made:
        pytest.skip("this torch build creates tensors on no device besides cpu and meta")
    for t in made:  # whatever exists: filled (compiled or fallback), or a clear error
        try:
            P.uniform_(t, seed=1)
        except (RuntimeError, TypeError, NotImplementedError) as e:
            assert str(t.device.type) in str(e)
