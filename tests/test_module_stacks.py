"""The stacks that train very large models: torchtitan, litgpt, accelerate + transformers, Lightning.

Each test builds a small config of the real library's model, initializes it with philoxinit in the
flow docs/module.md gives, and compares it with the library's own init: deterministic buffers and
constant parameters equal, each random parameter within a few percent of the library's std and
passing a two-sample KS test, and a finite first loss near log(vocab). Optional dependencies: each
test skips, saying why, where its library cannot be imported (``make stacks`` installs them).
"""

import math
import warnings

import pytest
import torch

import philoxinit as P

SEED = 2024


def _import(name):
    try:
        return __import__(name, fromlist=["_"])
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"{name} cannot be imported here: {type(e).__name__}: {e}")


def assert_same_init(ours, ref, *, random_min: int, skip=()):
    """``ours`` and ``ref`` (the library's own init) agree tensor by tensor, as the module docstring
    says. Returns how many parameters are random."""
    stats = pytest.importorskip("scipy.stats")
    mine = dict(ours.named_parameters())
    theirs = dict(ref.named_parameters())
    assert list(mine) == list(theirs)
    random = 0
    g = torch.Generator().manual_seed(0)
    for name, b in theirs.items():
        a = mine[name].detach().float().flatten()
        b = b.detach().float().flatten()
        assert not a.is_meta and torch.isfinite(a).all(), name
        if name in skip:
            continue
        if (b == b[0]).all():
            assert torch.equal(a, b), name
            continue
        random += 1
        if b.numel() >= 4096:
            assert abs(a.std().item() - b.std().item()) <= 0.03 * b.std().item(), (name, a.std(), b.std())
        if a.numel() > 20000:  # KS on a sample keeps the test fast; 20000 resolve a 2 % difference
            a = a[torch.randint(0, a.numel(), (20000,), generator=g)]
            b = b[torch.randint(0, b.numel(), (20000,), generator=g)]
        assert stats.ks_2samp(a.numpy(), b.numpy()).pvalue > 1e-4, name
    for (name, x), (_, y) in zip(ours.named_buffers(), ref.named_buffers()):
        assert torch.equal(x, y), name  # buffers are deterministic: bit-equal
    assert random >= random_min
    return random


def _near_log_vocab(loss, vocab):
    assert math.isfinite(loss) and abs(loss - math.log(vocab)) < 1.0, (loss, math.log(vocab))


# ---- torchtitan -------------------------------------------------------------------------------------


def _titan_config():
    llama3 = _import("torchtitan.models.llama3")
    return llama3.llama3_configs["debugmodel"](attn_backend="flex")


def _titan_loss(model, vocab=2048):
    x = torch.randint(0, vocab, (2, 32), generator=torch.Generator().manual_seed(0))
    pos = torch.arange(32).repeat(2, 1)
    with torch.no_grad():  # flex attention has no backward on CPU
        out = model(x, pos, model.get_attention_masks(pos))
    return torch.nn.functional.cross_entropy(out.flatten(0, 1).float(), x.flatten()).item()


def test_torchtitan_llama3_materialize_matches_its_init_weights():
    """torchtitan's flow: build on meta, then init_weights() once on the root (RoPE caches computed
    by assignment, the fused QKV weight from three temporaries concatenated and copied in)."""
    cfg = _titan_config()
    with torch.device("meta"):
        model = cfg.build()
    P.materialize(model, "cpu", root_fn=lambda m: m.init_weights(), reset_parameters=False, seed=SEED)
    torch.manual_seed(0)
    ref = cfg.build()
    ref.init_weights()
    assert assert_same_init(model, ref, random_min=32) == 32  # 6 layers x 5 weights + embedding + lm_head
    # the fused QKV weight: q, k, v drawn on streams (name, 0), (name, 1), (name, 2), then fused
    w = model.layers["0"].attention.qkv_linear.wqkv.weight
    name = "layers.0.attention.qkv_linear.wqkv.weight"
    q = P.trunc_normal_(torch.empty(256, 256), 0.0, 0.02, -2.0, 2.0, seed=SEED, stream=P.stream_of(name, 0))
    assert torch.equal(w[:16], q[:16])  # the first head of q comes first in the fused layout
    _near_log_vocab(_titan_loss(model), 2048)


def test_torchtitan_patch_reaches_its_partial_init_tables():
    """torchtitan keeps functools.partial(nn.init.trunc_normal_, ...) in its init tables: under
    patch() they draw philoxinit's numbers (reproducible, different from torch's)."""
    cfg = _titan_config()

    def build(patched):
        torch.manual_seed(0)
        m = cfg.build()
        if patched:
            with P.patch():
                m.init_weights()
        else:
            m.init_weights()
        return m

    a, b, plain = build(True), build(True), build(False)
    random = 0
    for (name, x), y, z in zip(a.named_parameters(), b.parameters(), plain.parameters()):
        assert torch.equal(x, y), name
        if x.std() > 0:
            random += 1
            assert not torch.equal(x, z), name
    assert random == 32
    assert_same_init(a, plain, random_min=32)


# ---- litgpt -----------------------------------------------------------------------------------------


def _litgpt_configs():
    litgpt = _import("litgpt")
    llama = litgpt.Config(
        name="tiny-llama", block_size=64, vocab_size=512, padded_vocab_size=512, n_layer=2, n_head=4,
        n_embd=64, n_query_groups=2, rotary_percentage=1.0, parallel_residual=False, bias=False,
        norm_class_name="RMSNorm", mlp_class_name="LLaMAMLP", intermediate_size=128,
    )  # fmt: skip
    return litgpt, [litgpt.Config.from_name("pythia-14m"), llama]


def _litgpt_loss(model, vocab):
    x = torch.randint(0, vocab, (2, 16), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return torch.nn.functional.cross_entropy(model(x).flatten(0, 1), x.flatten()).item()


@pytest.mark.parametrize("which", [0, 1], ids=["pythia-14m", "llama"])
def test_litgpt_materialize_matches_its_init_weights(which):
    """litgpt's flow: build on meta; the root's reset_parameters() recomputes the RoPE cache by
    assignment (self.cos, self.sin = ...), and gpt._init_weights is applied to every submodule."""
    litgpt, configs = _litgpt_configs()
    cfg = configs[which]
    with torch.device("meta"):
        model = litgpt.GPT(cfg)
    P.materialize(model, "cpu", model._init_weights, seed=SEED)
    torch.manual_seed(0)
    ref = litgpt.GPT(cfg)
    ref.apply(ref._init_weights)
    assert_same_init(model, ref, random_min=cfg.n_layer * 4)
    _near_log_vocab(_litgpt_loss(model, cfg.padded_vocab_size), cfg.padded_vocab_size)


def test_lightning_fabric_empty_init_then_philoxinit():
    """Fabric.init_module(empty_init=True) on one device gives real, uninitialized tensors:
    init_module writes them in place. Under a meta device (what sharded strategies use),
    materialize writes them once on the device."""
    L = _import("lightning")
    litgpt, configs = _litgpt_configs()
    cfg = configs[1]
    fabric = L.Fabric(accelerator="cpu", devices=1)
    torch.manual_seed(0)
    ref = litgpt.GPT(cfg)
    ref.apply(ref._init_weights)

    with fabric.init_module(empty_init=True):
        model = litgpt.GPT(cfg)
    P.init_module(model, model._init_weights, seed=SEED)
    assert_same_init(model, ref, random_min=8)

    with fabric.init_module(empty_init=True), torch.device("meta"):
        meta = litgpt.GPT(cfg)
    P.materialize(meta, fabric.device, meta._init_weights, seed=SEED)
    for (name, x), y in zip(meta.named_parameters(), model.parameters()):
        assert torch.equal(x, y), name  # the same values in place and from meta
    model = fabric.setup(meta)
    _near_log_vocab(_litgpt_loss(model, cfg.padded_vocab_size), cfg.padded_vocab_size)


# ---- accelerate + transformers ----------------------------------------------------------------------


def _transformers():
    tf = _import("transformers")
    tf.logging.set_verbosity_error()
    return tf


def _hf_loss(model, vocab):
    x = torch.randint(0, vocab, (2, 32), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return model(x, labels=x).loss.item()


def test_accelerate_init_empty_weights_gpt2_ties_and_init():
    """accelerate's init_empty_weights() unties GPT-2's lm_head from wte: materialize says so
    (TiedWeightsWarning); after model.tie_weights() the tie is kept and the init is GPT-2's."""
    accelerate = _import("accelerate")
    tf = _transformers()
    cfg = tf.GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=512, n_positions=64)
    with accelerate.init_empty_weights():
        untied = tf.AutoModelForCausalLM.from_config(cfg)
    with pytest.warns(P.TiedWeightsWarning, match="'lm_head.weight' to 'transformer.wte.weight'"):
        P.materialize(untied, "cpu", untied._init_weights, seed=SEED)

    with accelerate.init_empty_weights():
        model = tf.AutoModelForCausalLM.from_config(cfg)
    model.tie_weights()
    with warnings.catch_warnings():
        warnings.simplefilter("error", P.TiedWeightsWarning)
        P.materialize(model, "cpu", model._init_weights, seed=SEED)
    assert model.lm_head.weight is model.transformer.wte.weight
    torch.manual_seed(0)
    ref = tf.AutoModelForCausalLM.from_config(cfg)
    assert_same_init(model, ref, random_min=2 * 4 + 2)
    _near_log_vocab(_hf_loss(model, cfg.vocab_size), cfg.vocab_size)


def test_accelerate_init_empty_weights_llama():
    """Llama under init_empty_weights(): rotary buffers stay real (accelerate keeps buffers on the
    CPU), parameters come from _init_weights; no tie is declared, so no warning."""
    accelerate = _import("accelerate")
    tf = _transformers()
    cfg = tf.LlamaConfig(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=512, max_position_embeddings=64,
    )  # fmt: skip
    with accelerate.init_empty_weights():
        model = tf.AutoModelForCausalLM.from_config(cfg)
    with warnings.catch_warnings():
        warnings.simplefilter("error", P.TiedWeightsWarning)
        P.materialize(model, "cpu", model._init_weights, seed=SEED)
    torch.manual_seed(0)
    ref = tf.AutoModelForCausalLM.from_config(cfg)
    assert_same_init(model, ref, random_min=2 * 7 + 2)
    _near_log_vocab(_hf_loss(model, cfg.vocab_size), cfg.vocab_size)
