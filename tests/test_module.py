"""Whole-model init: init_module, materialize, deferred_init, name-keyed streams, patch/unpatch."""

import math
import sys
import types

import pytest
import torch
import torch.nn as nn

import philoxinit as P
from philoxinit import _backend, stream_of

SEED = 1234


def fresh(t):
    return torch.empty(t.shape, dtype=t.dtype)


def kaiming_ref(name, t):
    """torch's Linear/Conv weight scheme, drawn from the tensor's named stream."""
    return P.kaiming_uniform_(fresh(t), a=math.sqrt(5), seed=SEED, stream=stream_of(name))


def bias_ref(name, t, fan_in):
    bound = 1 / math.sqrt(fan_in)
    return P.uniform_(fresh(t), -bound, bound, seed=SEED, stream=stream_of(name))


# ---- streams ------------------------------------------------------------------------------------


def test_stream_of_is_blake2b_64_little_endian():
    import hashlib

    assert stream_of("layer.0.weight") == int.from_bytes(
        hashlib.blake2b(b"layer.0.weight", digest_size=8).digest(), "little"
    )
    assert stream_of("w", 2) == int.from_bytes(hashlib.blake2b(b"w\x002", digest_size=8).digest(), "little")
    # a known value, so a change of the hash cannot go unnoticed
    assert stream_of("weight") == 0x84E02E3EDC717246  # a known value: the hash is part of the contract
    assert stream_of("weight", 1) == 0x6496BD579621A084
    assert stream_of("é") == int.from_bytes(hashlib.blake2b("é".encode(), digest_size=8).digest(), "little")
    with pytest.raises(TypeError):
        stream_of(3)


# ---- schemes match torch's, module by module ------------------------------------------------------


def test_linear_and_conv_are_torchs_scheme_on_named_streams():
    m = nn.Sequential(nn.Linear(20, 7), nn.Conv2d(3, 5, 3))
    P.init_module(m, seed=SEED)
    assert torch.equal(m[0].weight, kaiming_ref("0.weight", m[0].weight))
    assert torch.equal(m[0].bias, bias_ref("0.bias", m[0].bias, 20))
    assert torch.equal(m[1].weight, kaiming_ref("1.weight", m[1].weight))
    assert torch.equal(m[1].bias, bias_ref("1.bias", m[1].bias, 27))
    assert m[0].weight.abs().max() <= 1 / math.sqrt(20)


def test_embedding_layernorm_rmsnorm_batchnorm():
    m = nn.ModuleDict(
        dict(emb=nn.Embedding(300, 16, padding_idx=3), ln=nn.LayerNorm(16), rms=nn.RMSNorm(16), bn=nn.BatchNorm1d(8))
    )
    with torch.no_grad():
        for p in m.parameters():
            p.fill_(7.0)
        for b in m.buffers():
            b.fill_(7)
    P.init_module(m, seed=SEED)
    w = m["emb"].weight
    expect = P.normal_(fresh(w), seed=SEED, stream=stream_of("emb.weight"))
    expect[3] = 0
    assert torch.equal(w, expect)
    assert abs(w.std().item() - 1) < 0.05
    assert torch.equal(m["ln"].weight, torch.ones(16)) and torch.equal(m["ln"].bias, torch.zeros(16))
    assert torch.equal(m["rms"].weight, torch.ones(16))
    bn = m["bn"]
    assert torch.equal(bn.weight, torch.ones(8)) and torch.equal(bn.bias, torch.zeros(8))
    assert torch.equal(bn.running_mean, torch.zeros(8)) and torch.equal(bn.running_var, torch.ones(8))
    assert bn.num_batches_tracked.item() == 0


def test_multihead_attention_and_transformer_layer():
    mha = nn.MultiheadAttention(32, 4)
    P.init_module(mha, seed=SEED)
    w = mha.in_proj_weight
    bound = math.sqrt(6 / (32 + 96))  # xavier_uniform_ over (96, 32)
    assert torch.equal(w, P.uniform_(fresh(w), -bound, bound, seed=SEED, stream=stream_of("in_proj_weight")))
    assert torch.equal(mha.in_proj_bias, torch.zeros(96))
    assert torch.equal(mha.out_proj.bias, torch.zeros(32))  # MHA zeroes what Linear's reset drew
    assert torch.equal(mha.out_proj.weight, kaiming_ref("out_proj.weight", mha.out_proj.weight))

    layer = nn.TransformerEncoderLayer(32, 4, dim_feedforward=64)
    P.init_module(layer, seed=SEED)
    assert torch.equal(layer.linear1.weight, kaiming_ref("linear1.weight", layer.linear1.weight))
    assert torch.equal(layer.linear2.bias, bias_ref("linear2.bias", layer.linear2.bias, 64))
    assert torch.equal(layer.norm1.weight, torch.ones(32)) and torch.equal(layer.norm2.bias, torch.zeros(32))
    assert torch.equal(layer.self_attn.in_proj_bias, torch.zeros(96))


def test_transformer_reset_parameters_overrides_children():
    # batch_first=True: nn.Transformer's default (False) makes torch warn that it cannot use nested tensors.
    t = nn.Transformer(16, 2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=32, batch_first=True)
    P.init_module(t, seed=SEED)
    w = t.encoder.layers[0].linear1.weight  # Transformer._reset_parameters: xavier_uniform_ on dim > 1
    bound = math.sqrt(6 / (16 + 32))
    ref = P.uniform_(fresh(w), -bound, bound, seed=SEED, stream=stream_of("encoder.layers.0.linear1.weight"))
    assert torch.equal(w, ref)


def test_statistics_of_a_large_linear():
    lin = nn.Linear(1024, 512)
    P.init_module(lin, seed=SEED)
    bound = 1 / math.sqrt(1024)
    w = lin.weight
    assert w.min() >= -bound and w.max() < bound
    assert abs(w.std().item() - bound / math.sqrt(3)) < 0.01 * bound


# ---- name keying ----------------------------------------------------------------------------------


class Net(nn.Module):
    def __init__(self, extra=False, first="a"):
        super().__init__()
        order = ["a", "b"] if first == "a" else ["b", "a"]
        for n in order:
            setattr(self, n, nn.Linear(8, 8))
        if extra:
            self.c = nn.Linear(8, 3)


def test_shared_names_share_values_and_new_layers_change_nothing_else():
    m1, m2, m3 = Net(), Net(extra=True), Net(first="b")
    for m in (m1, m2, m3):
        P.init_module(m, seed=SEED)
    for name, p in m1.named_parameters():
        assert torch.equal(p, m2.get_parameter(name)), name
        assert torch.equal(p, m3.get_parameter(name)), name
    assert not torch.equal(m1.a.weight, m1.b.weight)
    m4 = Net()
    P.init_module(m4, seed=SEED + 1)
    assert not torch.equal(m1.a.weight, m4.a.weight)


def test_key_from_torch_generator():
    m1, m2 = Net(), Net()
    torch.manual_seed(5)
    P.init_module(m1)
    torch.manual_seed(5)
    P.init_module(m2)
    assert torch.equal(m1.a.weight, m2.a.weight)
    g = torch.Generator().manual_seed(5)
    m3 = Net()
    P.init_module(m3, generator=g)
    assert torch.equal(m1.a.weight, m3.a.weight)
    with pytest.raises(ValueError):
        P.init_module(m3, seed=1, generator=g)
    with pytest.raises(ValueError):
        P.init_module(m3, seed=-1)


def test_compiled_equals_fallback(monkeypatch):
    if P.backend().name != "compiled":
        pytest.skip(f"compiled backend unavailable: {P.backend()}")

    def build():
        m = nn.Sequential(nn.Linear(33, 17), nn.Embedding(50, 9), nn.LayerNorm(9))
        P.init_module(
            m,
            lambda sub: nn.init.trunc_normal_(sub.weight, std=0.02) if isinstance(sub, nn.Embedding) else None,
            seed=SEED,
        )
        return m

    compiled = build()
    monkeypatch.setenv("PHILOXINIT_BACKEND", "torch")
    fallback = build()
    assert torch.equal(compiled[0].weight, fallback[0].weight)
    assert torch.equal(compiled[0].bias, fallback[0].bias)
    # normal and truncated normal: within 2 ulp (docs/contract.md); exact is better
    torch.testing.assert_close(compiled[1].weight, fallback[1].weight, rtol=2**-22, atol=1e-12)


# ---- fn, later writes, partial writes, other ops ----------------------------------------------------


def hf_style(module):
    if isinstance(module, nn.Linear):
        module.weight.data.normal_(mean=0.0, std=0.02)
        if module.bias is not None:
            module.bias.data.zero_()
    elif isinstance(module, nn.Embedding):
        nn.init.normal_(module.weight, std=0.02)
        if module.padding_idx is not None:
            module.weight.data[module.padding_idx].zero_()


def test_fn_replaces_reset_parameters():
    m = nn.Sequential(nn.Linear(64, 64), nn.Embedding(100, 64, padding_idx=0))
    P.init_module(m, hf_style, seed=SEED)
    w = m[0].weight
    assert torch.equal(w, P.normal_(fresh(w), 0.0, 0.02, seed=SEED, stream=stream_of("0.weight")))
    assert torch.equal(m[0].bias, torch.zeros(64))
    assert torch.equal(m[1].weight[0], torch.zeros(64))
    assert abs(m[1].weight[1:].std().item() - 0.02) < 0.002


def test_second_random_fill_of_a_tensor_uses_a_derived_stream_and_ops_replay_in_order():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.empty(4, 6))
            self.register_buffer("freq", torch.empty(5))

        def reset_parameters(self):
            nn.init.uniform_(self.w, -1, 1)
            self.w.data[1:3].normal_(0, 0.5)  # a partial random write
            with torch.no_grad():
                self.w.mul_(2)  # an op that reads
                self.freq.copy_(torch.arange(5.0) / 5)  # a copy from a real tensor

    m = M()
    P.init_module(m, seed=SEED)
    ref = P.uniform_(torch.empty(4, 6), -1, 1, seed=SEED, stream=stream_of("w"))
    P.normal_(ref[1:3], 0, 0.5, seed=SEED, stream=stream_of("w", 1))
    assert torch.equal(m.w, ref * 2)
    assert torch.equal(m.freq, torch.arange(5.0) / 5)


def test_torch_random_ops_replay_deterministically():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.empty(64, 64))

        def reset_parameters(self):
            nn.init.orthogonal_(self.w)  # not a philoxinit kernel: replayed with torch, name-keyed RNG

    a, b = M(), M()
    P.init_module(a, seed=SEED)
    torch.randn(10)  # the global generator state does not matter with seed=
    P.init_module(b, seed=SEED)
    assert torch.equal(a.w, b.w)
    torch.testing.assert_close(a.w @ a.w.T, torch.eye(64), atol=1e-4, rtol=0)


def test_batched_one_kernel_call_per_device(monkeypatch):
    if P.backend().name != "compiled":
        pytest.skip(f"compiled backend unavailable: {P.backend()}")
    calls = []
    real = _backend._C.fill_cpu

    def counting(requests, threads):
        calls.append(len(requests))
        return real(requests, threads)

    monkeypatch.setattr(_backend._C, "fill_cpu", counting)
    m = nn.Sequential(*[nn.Linear(16, 16) for _ in range(10)])
    P.init_module(m, seed=SEED)
    assert calls == [20]


def test_tensor_kwarg_form_and_philoxinit_calls_are_recorded():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.empty(8, 8))
            self.v = nn.Parameter(torch.empty(8, 8))

        def reset_parameters(self):
            P.xavier_normal_(self.w)
            P.uniform_(self.v, 0, 1, seed=99, stream=3)  # an explicit seed is replayed as written

    m = M()
    P.init_module(m, seed=SEED)
    std = math.sqrt(2 / 16)
    assert torch.equal(m.w, P.normal_(torch.empty(8, 8), 0, std, seed=SEED, stream=stream_of("w")))
    assert torch.equal(m.v, P.uniform_(torch.empty(8, 8), 0, 1, seed=99, stream=3))


# ---- materialize ------------------------------------------------------------------------------------


def test_materialize_equals_init_module_and_keeps_ties():
    def build():
        m = nn.Sequential(nn.Embedding(40, 8), nn.Linear(8, 40, bias=False))
        m[1].weight = m[0].weight
        return m

    with torch.device("meta"):
        meta = build()
    P.materialize(meta, "cpu", seed=SEED)
    real = build()
    P.init_module(real, seed=SEED)
    assert meta[0].weight.device.type == "cpu"
    assert meta[1].weight is meta[0].weight
    assert isinstance(meta[0].weight, nn.Parameter) and meta[0].weight.requires_grad
    assert torch.equal(meta[0].weight, real[0].weight)


def test_materialize_refuses_unwritten_tensors_and_names_them():
    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)
            self.scale = nn.Parameter(torch.ones(4))
            self.register_buffer("inv_freq", torch.arange(3.0))

    with torch.device("meta"):
        m = Custom()
    with pytest.raises(RuntimeError) as e:
        P.materialize(m, "cpu", seed=SEED)
    msg = str(e.value)
    assert "'scale'" in msg and "'inv_freq'" in msg and "Custom" in msg and "'lin.weight'" not in msg
    assert m.lin.weight.is_meta  # nothing was allocated

    def fn(sub):
        if isinstance(sub, Custom):
            nn.init.ones_(sub.scale)
            sub.inv_freq.copy_(torch.arange(3.0))

    P.materialize(m, "cpu", fn, seed=SEED)
    assert torch.equal(m.scale, torch.ones(4)) and torch.equal(m.inv_freq, torch.arange(3.0))


def test_partial_write_alone_is_an_error():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.empty(4, 4))

        def reset_parameters(self):
            with torch.no_grad():
                self.w[0].zero_()

    with torch.device("meta"):
        m = M()
    with pytest.raises(RuntimeError, match="'w'.*only partly written"):
        P.materialize(m, seed=SEED)


def test_errors_name_the_module():
    class Broken(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.empty(3))

        def reset_parameters(self):
            raise ValueError("boom")

    class Reshaper(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.empty(3))

        def reset_parameters(self):
            self.w = nn.Parameter(torch.zeros(4))

    class ReadsForeign(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.empty(3))
            self.table = torch.ones(3)  # a plain attribute: meta on a meta model, never recorded

        def reset_parameters(self):
            with torch.no_grad():
                self.w.copy_(self.table)

    class Syncs(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.empty(3))

        def reset_parameters(self):
            if self.w.abs().sum() > 0:  # reads values: impossible to record
                pass

    for cls, pattern in [
        (Broken, r"reset_parameters\(\) of Broken 'inner'.*boom"),
        (Reshaper, r"Reshaper 'inner'.*'inner.w'.*\(3,\).*\(4,\)"),
        (ReadsForeign, r"copy_.*'inner.w'.*ReadsForeign 'inner'.*only on the meta device"),
        (Syncs, r"Syncs 'inner' calls .*__bool__\(\) on a tensor computed by .*gt\(\)"),
    ]:
        with torch.device("meta"):
            m = nn.Sequential()
            m.add_module("inner", cls())
        with pytest.raises((RuntimeError, ValueError), match=pattern):
            P.materialize(m, seed=SEED)


def test_meta_device_is_not_a_target():
    with pytest.raises(ValueError):
        P.materialize(nn.Linear(2, 2), "meta")
    with pytest.raises(TypeError):
        P.init_module(torch.empty(2))


# ---- deferred_init ------------------------------------------------------------------------------------


class TimmStyle(nn.Module):
    """Initializes in __init__, as timm and torchvision models do."""

    def __init__(self, dim=16, classes=5):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, 4, dim) * 0.02)
        self.proj = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)
        nn.init.trunc_normal_(self.pos, std=0.02)
        nn.init.normal_(self.cls_token, std=1e-6)
        self.apply(self._init)
        with torch.no_grad():
            self.head.weight.mul_(0.5)  # not a fill: replayed with torch, in order

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)


def test_deferred_init_replays_the_constructor():
    m = P.deferred_init(TimmStyle, dim=16)
    assert all(p.is_meta for p in m.parameters())
    P.materialize(m, "cpu", seed=SEED)

    def tn(name, t, std):
        return P.trunc_normal_(fresh(t), 0.0, std, -2.0, 2.0, seed=SEED, stream=stream_of(name))

    assert torch.equal(m.pos, tn("pos", m.pos, 0.02))
    assert torch.equal(m.proj.weight, tn("proj.weight", m.proj.weight, 0.02))
    assert torch.equal(m.head.weight, tn("head.weight", m.head.weight, 0.02) * 0.5)
    assert torch.equal(m.proj.bias, torch.zeros(16))
    assert torch.equal(m.cls_token, P.normal_(fresh(m.cls_token), 0, 1e-6, seed=SEED, stream=stream_of("cls_token")))
    assert torch.equal(m.norm.weight, torch.ones(16))


def test_deferred_init_replays_values_computed_in_the_constructor():
    """Tensors the constructor computes (a scaled ones vector, a frequency buffer, a scaled randn)
    are recomputed on the target device; randn draws come from the named stream."""

    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)
            self.gamma = nn.Parameter(1e-5 * torch.ones(4))
            self.pos = nn.Parameter(torch.randn(3, 4) * 0.02)
            self.register_buffer("inv_freq", 1.0 / (10000 ** (torch.arange(0, 8, 2).float() / 8)))

    m = P.materialize(P.deferred_init(Scale), "cpu", seed=SEED)
    ref = Scale()
    assert torch.equal(m.gamma, ref.gamma) and torch.equal(m.inv_freq, ref.inv_freq)
    assert torch.equal(m.pos, P.normal_(torch.empty(3, 4), seed=SEED, stream=stream_of("pos")) * 0.02)
    assert torch.equal(m.lin.weight, kaiming_ref("lin.weight", m.lin.weight))


def test_deferred_init_recognizes_timm_functions(monkeypatch):
    """timm's trunc_normal_ (uniform + erfinv) and trunc_normal_tf_ run on philoxinit's kernel."""
    fake = types.ModuleType("timm.layers.weight_init")

    def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
        with torch.no_grad():
            tensor.uniform_(-0.9, 0.9).erfinv_().mul_(std * math.sqrt(2.0)).add_(mean).clamp_(min=a, max=b)
        return tensor

    def trunc_normal_tf_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
        with torch.no_grad():
            trunc_normal_(tensor, 0, 1.0, a, b).mul_(std).add_(mean)
        return tensor

    fake.trunc_normal_, fake.trunc_normal_tf_ = trunc_normal_, trunc_normal_tf_
    monkeypatch.setitem(sys.modules, "timm.layers.weight_init", fake)
    user = types.ModuleType("user_model_using_timm")
    user.trunc_normal_ = trunc_normal_  # from timm.layers import trunc_normal_
    monkeypatch.setitem(sys.modules, "user_model_using_timm", user)

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Parameter(torch.empty(32, 8))
            self.b = nn.Parameter(torch.empty(32, 8))
            user.trunc_normal_(self.a, std=0.02)
            fake.trunc_normal_tf_(self.b, std=0.5, a=-1, b=1)

    m = P.materialize(P.deferred_init(M), seed=SEED)
    assert torch.equal(m.a, P.trunc_normal_(torch.empty(32, 8), 0, 0.02, -2, 2, seed=SEED, stream=stream_of("a")))
    assert torch.equal(m.b, P.trunc_normal_(torch.empty(32, 8), 0, 0.5, -0.5, 0.5, seed=SEED, stream=stream_of("b")))
    assert user.trunc_normal_ is trunc_normal_  # restored


# ---- patch / unpatch ---------------------------------------------------------------------------------


def test_patch_routes_torch_nn_init_and_copies_and_restores():
    from torch.nn import init as tinit

    originals = {
        n: getattr(tinit, n) for n in ("uniform_", "normal_", "kaiming_uniform_", "xavier_normal_", "trunc_normal_")
    }
    user = types.ModuleType("user_module_with_copies")
    user.normal_ = tinit.normal_  # from torch.nn.init import normal_
    user.table = {"kaiming": tinit.kaiming_uniform_}
    sys.modules[user.__name__] = user
    try:
        with P.patch():
            assert tinit.uniform_ is P.uniform_ and user.normal_ is P.normal_
            assert user.table["kaiming"] is P.kaiming_uniform_
            with P.patch():  # nested
                assert tinit.normal_ is P.normal_
            assert tinit.normal_ is P.normal_  # the inner exit restored what the outer installed
            torch.manual_seed(3)
            a = tinit.normal_(torch.empty(100))
            torch.manual_seed(3)
            b = P.normal_(torch.empty(100))
            assert torch.equal(a, b)
        for n, f in originals.items():
            assert getattr(tinit, n) is f
        assert user.normal_ is originals["normal_"] and user.table["kaiming"] is originals["kaiming_uniform_"]

        with pytest.raises(KeyError):
            with P.patch():
                raise KeyError("x")
        assert tinit.uniform_ is originals["uniform_"]

        P.patch()
        assert tinit.xavier_normal_ is P.xavier_normal_
        P.unpatch()
        assert tinit.xavier_normal_ is originals["xavier_normal_"]
        with pytest.raises(RuntimeError):
            P.unpatch()
    finally:
        del sys.modules[user.__name__]


def test_memory_layout_does_not_matter():
    a = nn.Conv2d(4, 6, 3)
    b = nn.Conv2d(4, 6, 3).to(memory_format=torch.channels_last)
    assert not b.weight.is_contiguous()
    P.init_module(a, seed=SEED)
    P.init_module(b, seed=SEED)
    assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
    assert not b.weight.is_contiguous()  # written in place


def test_patch_survives_module_aliases_and_covers_every_holder():
    """One module under two names (``__main__`` is also ``__mp_main__``), dict values, lists,
    functools.partial (torchtitan's init tables), closure cells, default arguments, class and
    instance attributes: all call philoxinit under patch(), and all hold the originals again after."""
    import functools

    from torch.nn import init as tinit

    orig_normal, orig_trunc, orig_kaiming = tinit.normal_, tinit.trunc_normal_, tinit.kaiming_uniform_
    user = types.ModuleType("user_script_main")
    user.normal_ = tinit.normal_  # from torch.nn.init import normal_
    user.table = {"trunc": tinit.trunc_normal_}
    user.fns = [tinit.kaiming_uniform_]
    user.tn = functools.partial(tinit.trunc_normal_, std=0.02, a=-0.04, b=0.04)
    user.pos = functools.partial(tinit.normal_, mean=0.0)

    def make_closure(f=tinit.normal_):
        held = tinit.trunc_normal_
        return lambda t: held(t), f

    user.closure = make_closure
    closure, _ = make_closure()

    class Holder:
        init_fn = staticmethod(tinit.normal_)  # a staticmethod: not rewritable, reported

    class Plain:
        fn = tinit.normal_

    inst = types.SimpleNamespace(fn=tinit.trunc_normal_)
    sys.modules["user_script_main"] = user
    sys.modules["user_script_alias"] = user  # the same module object under a second name
    try:
        with pytest.warns(P.PatchWarning, match="staticmethod"):
            with P.patch():
                assert user.normal_ is P.normal_ and user.table["trunc"] is P.trunc_normal_
                assert user.fns[0] is P.kaiming_uniform_
                assert user.tn.func is P.trunc_normal_ and user.tn.keywords["std"] == 0.02
                assert user.pos.func is P.normal_
                assert make_closure.__defaults__[0] is P.normal_
                assert closure.__closure__[0].cell_contents is P.trunc_normal_
                assert Plain.fn is P.normal_ and inst.fn is P.trunc_normal_
                # the values are philoxinit's, through each holder
                for call, ref in [
                    (lambda t: user.tn(t), lambda t: P.trunc_normal_(t, 0.0, 0.02, -0.04, 0.04)),
                    (lambda t: closure(t), lambda t: P.trunc_normal_(t)),
                    (lambda t: Holder.init_fn(t, 0.0, 0.5), lambda t: P.normal_(t, 0.0, 0.5)),  # via the patched helper
                    (lambda t: orig_trunc(t), lambda t: P.trunc_normal_(t)),  # a kept original reaches the helper
                ]:
                    torch.manual_seed(5)
                    a = call(torch.empty(64))
                    torch.manual_seed(5)
                    assert torch.equal(a, ref(torch.empty(64)))
        assert user.normal_ is orig_normal and user.table["trunc"] is orig_trunc and user.fns[0] is orig_kaiming
        assert user.tn.func is orig_trunc and user.tn.keywords == dict(std=0.02, a=-0.04, b=0.04)
        assert user.pos.func is orig_normal and make_closure.__defaults__[0] is orig_normal
        assert closure.__closure__[0].cell_contents is orig_trunc
        assert Plain.fn is orig_normal and inst.fn is orig_trunc and Holder.init_fn is orig_normal
        assert tinit._no_grad_trunc_normal_.__module__ == "torch.nn.init"
    finally:
        del sys.modules["user_script_main"], sys.modules["user_script_alias"]


def test_patch_in_a_main_script_under_multiprocessing_names(tmp_path):
    """A script that imports an init function at top level, run as __main__ after torch registered
    __mp_main__: patch() replaces it once and restores it."""
    import subprocess

    script = tmp_path / "train.py"
    script.write_text(
        "import functools, torch, torch.multiprocessing\n"
        "from torch.nn.init import normal_, trunc_normal_\n"
        "import philoxinit\n"
        "import sys\n"
        "sys.modules['__mp_main__'] = sys.modules['__main__']\n"
        "INIT = {'w': functools.partial(trunc_normal_, std=0.02)}\n"
        "with philoxinit.patch():\n"
        "    assert normal_ is philoxinit.normal_ and INIT['w'].func is philoxinit.trunc_normal_\n"
        "assert normal_ is torch.nn.init.normal_ and INIT['w'].func is torch.nn.init.trunc_normal_\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


# ---- init code that computes, assigns and writes through temporaries ---------------------------------


class RopeAttention(nn.Module):
    """The patterns of litgpt and torchtitan: rotary caches assigned by init code, and a fused QKV
    weight initialized from three temporaries that are concatenated and copied in."""

    def __init__(self, dim=16, seq=12):
        super().__init__()
        self.dim, self.seq = dim, seq
        self.wqkv = nn.Linear(dim, 3 * dim, bias=False)
        self.out = nn.Linear(dim, dim)
        self.register_buffer("cos", torch.empty(seq, dim // 2), persistent=False)
        self.register_buffer("sin", torch.empty(seq, dim // 2), persistent=False)
        self.register_buffer("freqs_cis", torch.empty(seq, dim // 4, dtype=torch.complex64), persistent=False)

    def rope_cache(self, device=None):
        inv = 1.0 / (10000 ** (torch.arange(0, self.dim, 2, device=device).float() / self.dim))
        f = torch.outer(torch.arange(self.seq, device=device).float(), inv)
        return f.cos(), f.sin()

    def reset_parameters(self):  # litgpt: the root's reset_parameters() reassigns the caches
        self.cos, self.sin = self.rope_cache(device=self.cos.device)

    def init_weights(self, buffer_device=None):  # torchtitan: called once, on the root
        buffer_device = buffer_device or self.freqs_cis.device
        with torch.device(buffer_device):
            freqs = 1.0 / (10000 ** (torch.arange(0, self.dim // 2, 2)[: self.dim // 4].float() / (self.dim // 2)))
            t = torch.arange(self.seq, device=freqs.device)
            self.freqs_cis = torch.polar(torch.ones(self.seq, self.dim // 4), torch.outer(t, freqs).float())
        q, k, v = (torch.empty(self.dim, self.dim, device=self.wqkv.weight.device) for _ in range(3))
        for t in (q, k, v):
            nn.init.trunc_normal_(t, mean=0.0, std=0.02, a=-0.04, b=0.04)
        with torch.no_grad():
            self.wqkv.weight.copy_(torch.cat([q, k, v], dim=0))
            tmp = torch.zeros(self.dim, self.dim)
            tmp[:, : self.dim // 2] = 0.5  # slice assignment into a temporary
            self.out.weight[:] = tmp  # and slice assignment of the whole weight from it
        nn.init.zeros_(self.out.bias)


def test_assigned_buffers_and_temporaries_are_replayed():
    """Rotary caches computed by assignment are bit-equal to the module's own code; the fused QKV
    weight gets three philoxinit draws on the documented streams (name, 0), (name, 1), (name, 2)."""
    with torch.device("meta"):
        m = RopeAttention()
    P.materialize(m, "cpu", root_fn=lambda root: root.init_weights(), seed=SEED)
    ref = RopeAttention()
    ref.reset_parameters()
    ref.init_weights()
    for name in ("cos", "sin", "freqs_cis"):
        assert torch.equal(getattr(m, name), getattr(ref, name)), name
    pieces = [
        P.trunc_normal_(torch.empty(16, 16), 0.0, 0.02, -0.04, 0.04, seed=SEED, stream=stream_of("wqkv.weight", n))
        for n in range(3)
    ]
    assert torch.equal(m.wqkv.weight, torch.cat(pieces))
    assert torch.equal(m.out.weight, ref.out.weight) and torch.equal(m.out.bias, torch.zeros(16))
    # the same model, initialized in place, and the order of construction does not matter
    real = RopeAttention()
    P.init_module(real, root_fn=lambda root: root.init_weights(), seed=SEED)
    assert torch.equal(real.wqkv.weight, m.wqkv.weight) and torch.equal(real.cos, ref.cos)


def test_reset_parameters_false_skips_the_submodules_own_init():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 4)
            self.b = nn.Linear(4, 4)
            self.calls = 0

        def init_weights(self):
            self.calls += 1
            for lin in (self.a, self.b):
                nn.init.normal_(lin.weight, std=0.5)
                nn.init.zeros_(lin.bias)

    class Bomb(nn.Linear):
        armed = False

        def reset_parameters(self):
            if self.armed:
                raise AssertionError("superseded: must not run")
            super().reset_parameters()

    with torch.device("meta"):
        m = Model()
        m.a = Bomb(4, 4)
    Bomb.armed = True
    with pytest.raises(AssertionError, match="superseded"):
        P.materialize(m, "cpu", root_fn=Model.init_weights, seed=SEED)
    P.materialize(m, "cpu", root_fn=Model.init_weights, reset_parameters=False, seed=SEED)
    assert m.calls == 1  # once, on the root (the failed attempt stopped in reset_parameters())
    assert torch.equal(m.b.weight, P.normal_(torch.empty(4, 4), 0, 0.5, seed=SEED, stream=stream_of("b.weight")))
    assert torch.equal(m.a.bias, torch.zeros(4))


def test_ties_are_kept_and_declared_ties_that_are_missing_warn():
    class Config:
        tie_word_embeddings = True

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.config = Config()
            self.embed = nn.Embedding(32, 8)
            self.lm_head = nn.Linear(8, 32, bias=False)

        def get_input_embeddings(self):
            return self.embed

        def get_output_embeddings(self):
            return self.lm_head

    with torch.device("meta"):
        untied = LM()
    with pytest.warns(P.TiedWeightsWarning, match="'lm_head.weight' to 'embed.weight'"):
        P.materialize(untied, "cpu", seed=SEED)
    with torch.device("meta"):
        tied = LM()
    tied.lm_head.weight = tied.embed.weight
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", P.TiedWeightsWarning)
        P.materialize(tied, "cpu", seed=SEED)
    assert tied.lm_head.weight is tied.embed.weight and not tied.embed.weight.is_meta


def test_deferred_values_computed_from_other_parameters_read_them_after_they_are_written():
    class Twin(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Parameter(torch.empty(4, 4))
            nn.init.normal_(self.a)
            self.b = nn.Parameter(self.a * 2)  # computed from a's values
            self.register_buffer("table", torch.zeros(4, 4))
            self.table[1:3] = torch.arange(8.0).view(2, 4)  # slice assignment from a temporary

    m = P.materialize(P.deferred_init(Twin), "cpu", seed=SEED)
    assert torch.equal(m.a, P.normal_(torch.empty(4, 4), seed=SEED, stream=stream_of("a")))
    assert torch.equal(m.b, m.a * 2)
    expect = torch.zeros(4, 4)
    expect[1:3] = torch.arange(8.0).view(2, 4)
    assert torch.equal(m.table, expect)
