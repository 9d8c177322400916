"""Real clients: Hugging Face transformers and timm models initialized by philoxinit.

Optional test dependencies: each test skips (saying why) when its library cannot be imported.
Models come from small configs; nothing is downloaded.
"""

import math

import pytest
import torch
import torch.nn as nn

import philoxinit as P

SEED = 2024


def _import(name):
    try:
        return __import__(name)
    except Exception as e:  # noqa: BLE001  (timm raises ModuleNotFoundError for torchvision)
        pytest.skip(f"{name} cannot be imported here: {type(e).__name__}: {e}")


@pytest.fixture(scope="module")
def transformers():
    tf = _import("transformers")
    if not tf.utils.is_torch_available():
        pytest.skip(f"this transformers ({tf.__version__}) does not support torch {torch.__version__}")
    tf.logging.set_verbosity_error()
    return tf


def _gpt2_config(tf):
    return tf.GPT2Config(n_layer=3, n_embd=64, n_head=4, vocab_size=512, n_positions=64, bos_token_id=0, eos_token_id=0)


def _llama_config(tf):
    return tf.LlamaConfig(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=512, max_position_embeddings=64,
    )  # fmt: skip


def _meta_model(tf, config):
    with torch.device("meta"):
        return tf.AutoModelForCausalLM.from_config(config)


def _first_loss(model, vocab):
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, vocab, (2, 32), generator=g)
    with torch.no_grad():
        return model(x, labels=x).loss.item()


def _check_std(p, std, name):
    got = p.float().std().item()
    assert abs(got - std) < 0.15 * std, (name, got, std)
    assert abs(p.float().mean().item()) < 0.2 * std, name


def test_gpt2_materialize_gives_the_library_init(transformers):
    cfg = _gpt2_config(transformers)
    m = _meta_model(transformers, cfg)
    P.materialize(m, "cpu", m._init_weights, seed=SEED)
    resid = cfg.initializer_range / math.sqrt(2 * cfg.n_layer)  # GPT-2's scaled residual projections
    for name, p in m.named_parameters():
        assert not p.is_meta and p.device.type == "cpu"
        if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")):
            assert torch.equal(p, torch.ones_like(p)), name
        elif name.endswith(".bias"):
            assert torch.equal(p, torch.zeros_like(p)), name
        elif name.endswith("c_proj.weight"):
            _check_std(p, resid, name)
        else:
            _check_std(p, cfg.initializer_range, name)
    assert m.lm_head.weight is m.transformer.wte.weight
    # the library's own eager init, for comparison of statistics
    torch.manual_seed(0)
    ref = transformers.AutoModelForCausalLM.from_config(cfg)
    for (name, p), (_, q) in zip(m.named_parameters(), ref.named_parameters()):
        assert abs(p.float().std().item() - q.float().std().item()) <= 0.15 * q.float().std().item() + 1e-7, name
    loss = _first_loss(m, cfg.vocab_size)
    assert abs(loss - math.log(cfg.vocab_size)) < 0.5, loss


def test_gpt2_is_reproducible_and_name_keyed(transformers):
    cfg = _gpt2_config(transformers)
    a, b, c = (_meta_model(transformers, cfg) for _ in range(3))
    P.materialize(a, "cpu", a._init_weights, seed=SEED)
    P.materialize(b, "cpu", b._init_weights, seed=SEED)
    P.materialize(c, "cpu", c._init_weights, seed=SEED + 1)
    for (name, p), q, r in zip(a.named_parameters(), b.parameters(), c.parameters()):
        assert torch.equal(p, q), name
        if p.numel() > 1 and p.std() > 0:
            assert not torch.equal(p, r), name
    w = a.transformer.h[1].attn.c_attn.weight
    ref = P.normal_(
        torch.empty_like(w),
        0.0,
        cfg.initializer_range,
        seed=SEED,
        stream=P.stream_of("transformer.h.1.attn.c_attn.weight"),
    )
    assert torch.equal(w, ref)


def test_llama_materialize_gives_the_library_init(transformers):
    cfg = _llama_config(transformers)
    m = _meta_model(transformers, cfg)
    P.materialize(m, "cpu", m._init_weights, seed=SEED)
    for name, p in m.named_parameters():
        if "norm" in name:
            assert torch.equal(p, torch.ones_like(p)), name
        else:
            _check_std(p, cfg.initializer_range, name)
    torch.manual_seed(0)
    ref = transformers.AutoModelForCausalLM.from_config(cfg)
    for (name, b), (_, rb) in zip(m.named_buffers(), ref.named_buffers()):  # rotary frequencies
        assert torch.equal(b, rb), name
    loss = _first_loss(m, cfg.vocab_size)
    assert abs(loss - math.log(cfg.vocab_size)) < 0.5, loss


def test_llama_without_init_weights_names_what_is_missing(transformers):
    m = _meta_model(transformers, _llama_config(transformers))
    with pytest.raises(RuntimeError, match="rotary_emb.inv_freq"):
        P.materialize(m, "cpu", seed=SEED)  # RMSNorm and rotary buffers have no reset_parameters()


# timm's ViT weight_init modes and how many of vit_tiny's parameters each draws at random: the
# default (trunc_normal_ std .02), "jax" (xavier_uniform_, lecun_normal_ of the patch embedding,
# normal_ std 1e-6 MLP biases) and "moco" (xavier_uniform_ with a fan-corrected qkv bound).
@pytest.mark.parametrize("weight_init,random_params", [("", 53), ("jax", 75), ("moco", 53)])
def test_timm_vit_matches_timms_own_init(weight_init, random_params):
    """deferred_init(timm.create_model, ...) then materialize draws every parameter from the
    distribution timm's own constructor draws it from: constants (zero biases, LayerNorm ones) are
    equal, and each random parameter passes a two-sample KS test against an eagerly built twin."""
    timm = _import("timm")
    stats = pytest.importorskip("scipy.stats")
    kw = dict(num_classes=10, weight_init=weight_init)
    torch.manual_seed(0)
    eager = timm.create_model("vit_tiny_patch16_224", **kw)
    m = P.materialize(P.deferred_init(timm.create_model, "vit_tiny_patch16_224", **kw), "cpu", seed=SEED)
    ours = dict(m.named_parameters())
    assert [n for n, _ in eager.named_parameters()] == list(ours)
    random = 0
    for name, p in eager.named_parameters():
        a, b = p.detach().flatten(), ours[name].detach().flatten()
        if (a == a[0]).all():
            assert torch.equal(a, b), name
            continue
        random += 1
        assert stats.ks_2samp(a.numpy(), b.numpy()).pvalue > 1e-4, name
    assert random == random_params
    with torch.no_grad():
        out = m(torch.randn(1, 3, 224, 224))
    assert out.shape == (1, 10) and torch.isfinite(out).all()


def test_timm_style_model_runs_after_deferred_init():
    """What the timm recipe exercises, without timm: constructor init, then a forward pass."""

    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Conv2d(3, 16, 4, stride=4)
            self.cls = nn.Parameter(torch.zeros(1, 1, 16))
            self.block = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)
            self.head = nn.Linear(16, 10)
            nn.init.normal_(self.cls, std=1e-6)
            nn.init.trunc_normal_(self.head.weight, std=0.02, a=-0.04, b=0.04)

        def forward(self, x):
            x = self.embed(x).flatten(2).transpose(1, 2)
            x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1)
            return self.head(self.block(x)[:, 0])

    m = P.materialize(P.deferred_init(Tiny), "cpu", seed=SEED)
    assert abs(m.head.weight.std().item() - 0.02) < 0.01
    assert m.head.weight.abs().max() <= 0.04
    out = m(torch.randn(2, 3, 16, 16))
    assert out.shape == (2, 10) and torch.isfinite(out).all()
