"""The exact part of the contract: Philox known answers, raw words, uniform and normal bits, layouts."""

from pathlib import Path

import numpy as np
import pytest
import reference as ref
import torch

import philoxinit as P

KAT = Path(__file__).parent / "data" / "philox4x32_10.txt"


def kat_vectors():
    rows = []
    for line in KAT.read_text().splitlines():
        if line.startswith("philox4x32"):
            f = [int(v, 16) for v in line.split()[2:]]
            rows.append((tuple(f[0:4]), tuple(f[4:6]), tuple(f[6:10])))
    return rows


def test_kat_file_has_all_vectors():
    assert len(kat_vectors()) == 29


@pytest.mark.parametrize("ctr,key,expected", kat_vectors())
def test_philox_known_answers(ctr, key, expected):
    assert P.philox4x32_10(ctr, key) == expected


@pytest.mark.parametrize("ctr,key,expected", kat_vectors())
def test_reference_model_known_answers(ctr, key, expected):
    out = ref.philox([np.array([c], dtype=np.uint64) for c in ctr], key)
    assert tuple(int(o[0]) for o in out) == expected


def test_philox_rejects_bad_words():
    with pytest.raises(ValueError):
        P.philox4x32_10((0, 0, 0, 1 << 32), (0, 0))
    with pytest.raises(ValueError):
        P.philox4x32_10((0, 0, 0), (0, 0))


def bits_of(n, *, seed, stream=0, offset=0, dtype=torch.int32):
    t = torch.empty(n, dtype=dtype)
    P.random_bits_(t, seed=seed, stream=stream, offset=offset)
    return t.view(torch.int32).numpy().view(np.uint32)


KEYS = [0, 1, 0xDEADBEEF, (1 << 64) - 1, 0x123456789ABCDEF0]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("stream", [0, 7, (1 << 64) - 1])
def test_raw_words_match_reference(backend_name, key, stream):
    np.testing.assert_array_equal(bits_of(1003, seed=key, stream=stream), ref.words(key, stream, 0, 1003))


@pytest.mark.parametrize(
    "offset",
    [(1 << 32) - 3, (1 << 64) - 2, (1 << 64) - 1, 12345],  # carries across 32 bits, wraps 2^64
)
def test_offsets_carry_and_wrap(backend_name, offset):
    got = bits_of(37, seed=5, offset=offset)
    np.testing.assert_array_equal(got, ref.words(5, 0, offset, 37))
    # block B = O + i // 4 (mod 2^64): element 4k of offset O is element 0 of offset O + k
    later = bits_of(5, seed=5, offset=(offset + 2) % (1 << 64))
    np.testing.assert_array_equal(got[8:13], later)


def test_uint32_bits_equal_int32_bits():
    if not hasattr(torch, "uint32"):
        pytest.skip("torch has no uint32")
    np.testing.assert_array_equal(bits_of(64, seed=3, dtype=torch.uint32), bits_of(64, seed=3))


def test_seed_alone_is_stream_0_offset_0():
    np.testing.assert_array_equal(bits_of(16, seed=9), bits_of(16, seed=9, stream=0, offset=0))
    assert not np.array_equal(bits_of(16, seed=9), bits_of(16, seed=9, stream=1))


# ---- uniform: exact bits ----------------------------------------------------------------------

BOUNDS = [(0.0, 1.0), (-0.0625, 0.0625), (-3.7, 11.25), (1.0, 1.0000001192092896), (-1e-30, 1e-30)]


@pytest.mark.parametrize("low,high", BOUNDS)
def test_uniform_f32_bits(backend_name, low, high):
    t = torch.empty(4099)
    P.uniform_(t, low, high, seed=77, stream=3, offset=11)
    expected = ref.uniform_f32(ref.words(77, 3, 11, 4099), low, high)
    np.testing.assert_array_equal(t.numpy().view(np.uint32), expected.view(np.uint32))


def test_uniform_v_not_less_than_high_becomes_low():
    # high is the float after low: about half the draws round up to high and must become low.
    low, high = 1.0, float(np.nextafter(np.float32(1.0), np.float32(2.0)))
    t = P.uniform_(torch.empty(1000), low, high, seed=1)
    assert (t == low).all()
    x = ref.words(1, 0, 0, 1000)
    raw = np.float32(low) + (x >> 8).astype(np.float32) * np.float32(2**-24) * (np.float32(high) - np.float32(low))
    assert (raw >= np.float32(high)).sum() > 100  # the rule really fired


@pytest.mark.parametrize("low,high", BOUNDS[:3] + [(2.0, 2.0 + 2**-51)])
def test_uniform_f64_bits(backend_name, low, high):
    t = torch.empty(2051, dtype=torch.float64)
    P.uniform_(t, low, high, seed=12, offset=(1 << 64) - 3)
    expected = ref.uniform_f64(ref.words64(12, 0, (1 << 64) - 3, 2051), low, high)
    np.testing.assert_array_equal(t.numpy(), expected)
    assert (t.numpy() < high).all() and (t.numpy() >= low).all()


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("low,high", [(0.0, 1.0), (-2.5, 2.5), (1.0, 1.0078125), (-0.001, 0.001)])
def test_uniform_narrow_bits(backend_name, dtype, low, high):
    t = torch.empty(3001, dtype=getattr(torch, dtype))
    P.uniform_(t, low, high, seed=4)
    expected = ref.uniform_narrow(ref.words(4, 0, 0, 3001), low, high, dtype)
    np.testing.assert_array_equal(t.float().numpy(), expected)
    hi = ref.round_narrow(np.array([high], dtype=np.float32), dtype)[0]
    assert (t.float().numpy() < hi).all()


def test_kaiming_uniform_writes_uniform_of_its_bound():
    w = torch.empty(256, 1024)
    P.kaiming_uniform_(w, seed=3)
    bound = torch.nn.init.calculate_gain("leaky_relu", 0) * (3.0 / 1024) ** 0.5
    u = P.uniform_(torch.empty(256, 1024), -bound, bound, seed=3)
    assert torch.equal(w, u)


# ---- layouts ------------------------------------------------------------------------------------


def contiguous(shape, fn, dtype=torch.float32):
    return fn(torch.empty(shape, dtype=dtype))


LAYOUTS = {
    "transposed": lambda shape, dt: torch.empty(tuple(reversed(shape)), dtype=dt).t(),
    "sliced": lambda shape, dt: torch.empty(shape[0], shape[1] * 2 + 1, dtype=dt)[:, 1::2],
    "channels_last": None,
}


@pytest.mark.parametrize("layout", ["transposed", "sliced"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("dist", ["uniform", "normal", "trunc"])
def test_strided_outputs_equal_contiguous(backend_name, layout, dtype, dist):
    fill = {
        "uniform": lambda t: P.uniform_(t, -1, 2, seed=8),
        "normal": lambda t: P.normal_(t, 0.5, 2.0, seed=8),
        "trunc": lambda t: P.trunc_normal_(t, 0.0, 1.0, -1.5, 2.5, seed=8),
    }[dist]
    shape = (37, 29)
    view = LAYOUTS[layout](shape, dtype)
    assert not view.is_contiguous()
    fill(view)
    assert torch.equal(view, contiguous(shape, fill, dtype))


def test_channels_last_equals_contiguous():
    t = torch.empty(8, 3, 5, 7).to(memory_format=torch.channels_last)
    P.kaiming_normal_(t, seed=2)
    assert torch.equal(t, P.kaiming_normal_(torch.empty(8, 3, 5, 7), seed=2))


def test_global_box_equals_slice_of_full():
    full = P.normal_(torch.empty(10, 12), seed=6)
    box = P.normal_(torch.empty(4, 5), seed=6, global_shape=(10, 12), global_offset=(3, 7))
    assert torch.equal(box, full[3:7, 7:12])


def test_complex_uses_real_view():
    z = P.uniform_(torch.empty(50, dtype=torch.complex64), -1, 1, seed=5)
    r = P.uniform_(torch.empty(50, 2), -1, 1, seed=5)
    assert torch.equal(torch.view_as_real(z), r)


@pytest.mark.parametrize(
    "key,stream,offset", [(0, 0, 0), (0xDEADBEEF, 7, 5), ((1 << 64) - 1, (1 << 64) - 1, (1 << 64) - 3)]
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_normal_bits_match_reference(backend_name, key, stream, offset, dtype):
    """normal_ is exact too: Box-Muller on word pairs, every op fixed (docs/normal_transform.md)."""
    n = 4099
    t = P.normal_(torch.empty(n, dtype=dtype), 0.25, 1.5, seed=key, stream=stream, offset=offset)
    model = ref.normal_f32 if dtype == torch.float32 else ref.normal_f64
    expected = model(key, stream, offset, n, 0.25, 1.5)
    np.testing.assert_array_equal(t.numpy().view(np.uint8), expected.view(np.uint8))
