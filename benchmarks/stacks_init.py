"""Whole-model init time: each stack's own init against philoxinit's, on ~300M-parameter configs.

    python benchmarks/stacks_init.py [--repeat 3] [--only torchtitan,litgpt,transformers]

Run in the environment `make stacks` builds (torch 2.14.1, torchtitan 0.3.0, litgpt 0.5.13,
accelerate, transformers). Both sides run in this process, on the CPU, median of --repeat runs;
each side includes allocating the parameters (to_empty / construction), as a user's flow does.
A stack that cannot be imported is reported and skipped.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

import torch

import philoxinit as P
from philoxinit.bench import cpu_model


def _median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def torchtitan_pair(repeat: int):
    from torchtitan.models.common import ComplexRoPE, Embedding, Linear, RMSNorm, compute_ffn_hidden_dim
    from torchtitan.models.llama3 import Llama3Model, _build_llama3_layers, _output_linear_init

    dim, vocab = 1024, 32000
    cfg = Llama3Model.Config(
        dim=dim, vocab_size=vocab,
        tok_embeddings=Embedding.Config(num_embeddings=vocab, embedding_dim=dim, param_init={"weight": _normal}),
        norm=RMSNorm.Config(normalized_shape=dim, param_init={"weight": torch.nn.init.ones_}),
        lm_head=Linear.Config(in_features=dim, out_features=vocab, param_init=_output_linear_init(dim)),
        layers=_build_llama3_layers(
            fuse_qkv=True, n_layers=20, dim=dim, n_heads=16,
            hidden_dim=compute_ffn_hidden_dim(dim, multiple_of=256),
            rope=ComplexRoPE.Config(dim=dim // 16, max_seq_len=8192, theta=500000, scaling="llama"),
            attn_backend="flex",
        ),
    )  # fmt: skip

    def meta():
        with torch.device("meta"):
            return cfg.build()

    def own():
        m = meta().to_empty(device="cpu")
        m.init_weights(buffer_device=None)

    def ours():
        P.materialize(meta(), "cpu", root_fn=lambda m: m.init_weights(), reset_parameters=False, seed=0)

    return _params(meta()), _median_time(own, repeat), _median_time(ours, repeat)


def _normal(t):
    return torch.nn.init.normal_(t, std=1.0)


def litgpt_pair(repeat: int):
    import litgpt

    cfg = litgpt.Config(
        name="bench-llama", block_size=4096, vocab_size=32000, padded_vocab_size=32000, n_layer=20,
        n_head=16, n_embd=1024, n_query_groups=16, rotary_percentage=1.0, parallel_residual=False,
        bias=False, norm_class_name="RMSNorm", mlp_class_name="LLaMAMLP", intermediate_size=2816,
    )  # fmt: skip

    def meta():
        with torch.device("meta"):
            return litgpt.GPT(cfg)

    def own():
        m = meta().to_empty(device="cpu")
        m.reset_parameters()  # the RoPE cache
        m.apply(m._init_weights)

    def ours():
        m = meta()
        P.materialize(m, "cpu", m._init_weights, seed=0)

    return _params(meta()), _median_time(own, repeat), _median_time(ours, repeat)


def transformers_pair(repeat: int):
    import transformers as tf
    from accelerate import init_empty_weights

    tf.logging.set_verbosity_error()
    cfg = tf.LlamaConfig(
        hidden_size=1024, intermediate_size=2816, num_hidden_layers=20, num_attention_heads=16,
        num_key_value_heads=16, vocab_size=32000, max_position_embeddings=4096,
    )  # fmt: skip

    def own():
        tf.AutoModelForCausalLM.from_config(cfg)

    def ours():
        with init_empty_weights():
            m = tf.AutoModelForCausalLM.from_config(cfg)
        P.materialize(m, "cpu", m._init_weights, seed=0)

    with init_empty_weights():
        n = _params(tf.AutoModelForCausalLM.from_config(cfg))
    return n, _median_time(own, repeat), _median_time(ours, repeat)


def _params(m) -> int:
    return sum(p.numel() for p in m.parameters())


PAIRS = {"torchtitan": torchtitan_pair, "litgpt": litgpt_pair, "transformers": transformers_pair}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default=",".join(PAIRS))
    args = ap.parse_args()
    print(f"CPU: {cpu_model()}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"philoxinit {P.__version__} ({str(P.backend()).split(':')[0]}); median of {args.repeat}")  # fmt: skip
    for name in args.only.split(","):
        try:
            n, own, ours = PAIRS[name](args.repeat)
        except ImportError as e:
            print(f"{name}: skipped ({e})")
            continue
        print(f"{name}: {n / 1e6:.0f}M parameters: own init {own:.2f} s, philoxinit {ours:.2f} s, {own / ours:.1f}x")


if __name__ == "__main__":
    main()
