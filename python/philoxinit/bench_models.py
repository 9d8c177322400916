"""Whole-model initialization benchmark: eager construction vs meta + init loop vs philoxinit.

Models:

* ``gpt2``: a GPT-2-small-shaped model (124M parameters, tied head) built from torch.nn modules.
* ``llama``: transformers' Llama with TinyLlama-1.1B's config (hidden 2048, intermediate 5632, 22
  layers, 32 heads, 4 kv heads, vocab 32000); needs ``transformers``.
* ``vit``: timm's ``vit_base_patch16_224``; needs an importable ``timm``.

Variants (each runs in a fresh subprocess, so its peak memory is its own):

* ``eager``: construct on the CPU (torch.nn's reset_parameters; transformers' ``from_config``
  init; timm's constructor init).
* ``loop``: construct on meta, ``to_empty('cpu')``, then the library's own init loop
  (``reset_parameters()`` of every module; ``model.apply(model._init_weights)``; timm's
  ``init_weights()``).
* ``philoxinit``: construct on meta (timm: ``deferred_init``), then ``philoxinit.materialize``.

Time is wall time from the start of construction to an initialized model (imports excluded: each
process builds the model once on the meta device first, which loads what torch, transformers and
timm import lazily); CPU
is the process's user + system CPU time over the same span (all threads, first-touch page faults
included), a fairer figure on a busy machine.
``--huge-pages`` runs every process with ``THP_MEM_ALLOC_ENABLE=1``, PyTorch's own switch: its CPU
allocator then aligns allocations of 2 MiB and more to 2 MiB and asks the kernel for transparent
huge pages, so first-touch page faults map 2 MiB at a time (Linux with THP ``madvise`` or
``always``). Whether that helps depends on the machine: faster on one guest measured, up to 3x
slower on another whose hypervisor takes free 2 MiB blocks back (docs/performance.md).
``peak RSS`` is the process's peak resident memory minus its resident memory just before
construction; ``x params`` is that over the parameter bytes. Speed-ups are against ``eager`` and
``loop`` of the same model, measured on the same machine in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional

MODELS = ("gpt2", "llama", "vit")
VARIANTS = ("eager", "loop", "philoxinit")

LLAMA_TINY_1B = dict(
    hidden_size=2048,
    intermediate_size=5632,
    num_hidden_layers=22,
    num_attention_heads=32,
    num_key_value_heads=4,
    vocab_size=32000,
    max_position_embeddings=2048,
)


# ---- the models ---------------------------------------------------------------------------------


def gpt2_small(vocab: int = 50257, ctx: int = 1024, d: int = 768, layers: int = 12):
    """A GPT-2-small-shaped stack of torch.nn modules: 124M parameters with the head tied."""
    import torch.nn as nn

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln_1 = nn.LayerNorm(d)
            self.qkv = nn.Linear(d, 3 * d)
            self.proj = nn.Linear(d, d)
            self.ln_2 = nn.LayerNorm(d)
            self.fc = nn.Linear(d, 4 * d)
            self.fc_proj = nn.Linear(4 * d, d)

    class GPT2Shaped(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wte = nn.Embedding(vocab, d)
            self.wpe = nn.Embedding(ctx, d)
            self.blocks = nn.ModuleList(Block() for _ in range(layers))
            self.ln_f = nn.LayerNorm(d)
            self.lm_head = nn.Linear(d, vocab, bias=False)
            self.lm_head.weight = self.wte.weight

    return GPT2Shaped()


def _llama_config():
    from transformers import LlamaConfig

    return LlamaConfig(**LLAMA_TINY_1B)


def _quiet_transformers() -> None:
    import transformers

    transformers.logging.set_verbosity_error()


def _availability(model: str) -> Optional[str]:
    """None when the model can run here, else why not."""
    try:
        if model == "llama":
            import transformers  # noqa: F401
        elif model == "vit":
            import timm  # noqa: F401
    except Exception as e:  # timm needs torchvision, which may be missing or broken
        return f"{type(e).__name__}: {e}"
    return None


def _build(model: str, variant: str):
    """Construct and initialize one model one way; returns the model."""
    import torch

    import philoxinit

    if model == "gpt2":
        if variant == "eager":
            return gpt2_small()
        with torch.device("meta"):
            m = gpt2_small()
        if variant == "loop":
            m.to_empty(device="cpu")
            m.lm_head.weight = m.wte.weight  # to_empty unties
            for sub in m.modules():
                if hasattr(sub, "reset_parameters"):
                    sub.reset_parameters()
            return m
        return philoxinit.materialize(m, "cpu", seed=0)
    if model == "llama":
        from transformers import AutoModelForCausalLM

        _quiet_transformers()
        cfg = _llama_config()
        if variant == "eager":
            return AutoModelForCausalLM.from_config(cfg)
        with torch.device("meta"):
            m = AutoModelForCausalLM.from_config(cfg)
        if variant == "loop":
            m.to_empty(device="cpu")
            m.tie_weights()
            m.apply(m._init_weights)
            return m
        return philoxinit.materialize(m, "cpu", m._init_weights, seed=0)
    if model == "vit":
        import timm

        name = "vit_base_patch16_224"
        if variant == "eager":
            return timm.create_model(name)
        if variant == "loop":
            with torch.device("meta"):
                m = timm.create_model(name)
            m.to_empty(device="cpu")
            m.init_weights()
            return m
        m = philoxinit.deferred_init(timm.create_model, name)
        return philoxinit.materialize(m, "cpu", seed=0)
    raise ValueError(f"unknown model {model!r}")


def _rss_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _cpu_seconds() -> float:
    """User + system CPU time of this process (all its threads), page faults included."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _worker(model: str, variant: str) -> dict:
    """Runs in the child process: build once, report time and memory as JSON."""
    import torch

    import philoxinit  # noqa: F401  (import costs are not measured)

    if model == "llama":
        import transformers  # noqa: F401
    if model == "vit":
        import timm  # noqa: F401
    # torch imports ~800 modules (sympy among them) the first time a meta tensor is drawn from
    # (meta normal_), and transformers imports a model's modules (flex attention and scipy among
    # them for Llama, ~0.7 s) on its first from_config: once-per-process costs, excluded like every
    # other import by one build of the model on the meta device first.
    torch.empty(1, device="meta").normal_()
    with torch.device("meta"):
        _build(model, "eager")
    torch.manual_seed(0)
    before = _rss_kb("VmRSS")
    c0 = _cpu_seconds()
    t0 = time.perf_counter()
    m = _build(model, variant)
    seconds = time.perf_counter() - t0
    cpu = _cpu_seconds() - c0
    peak = _rss_kb("VmHWM")
    seen, n, nbytes = set(), 0, 0
    for t in list(m.parameters()) + list(m.buffers()):
        if id(t) in seen:
            continue
        seen.add(id(t))
        if t.is_meta:
            raise RuntimeError(f"{model}/{variant}: a tensor is still on meta")
        n += t.numel()
        nbytes += t.numel() * t.element_size()
    return {
        "model": model,
        "variant": variant,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "params": n,
        "bytes": nbytes,
        "peak_rss_bytes": max(0, peak - before) * 1024,
        "threads": torch.get_num_threads(),
        "huge_pages": os.environ.get("THP_MEM_ALLOC_ENABLE") == "1",
    }


def _run_child(model: str, variant: str, timeout: float, huge_pages: bool = False) -> dict:
    cmd = [sys.executable, "-m", "philoxinit.bench_models", "--worker", model, variant]
    env = dict(os.environ)
    if huge_pages:
        env["THP_MEM_ALLOC_ENABLE"] = "1"
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{model}/{variant} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(
    models, variants, repeats: int = 1, timeout: float = 600.0, log=print, huge_pages: bool = False
) -> List[dict]:
    """Median over ``repeats`` fresh processes of each (model, variant); ``huge_pages`` sets torch's
    THP_MEM_ALLOC_ENABLE=1 in every process (see the module docstring)."""
    rows = []
    for model in models:
        why = _availability(model)
        if why is not None:
            log(f"# {model}: skipped ({why})")
            rows.append({"model": model, "skipped": why})
            continue
        for variant in variants:
            runs = [_run_child(model, variant, timeout, huge_pages) for _ in range(repeats)]
            row = dict(runs[0])
            row["seconds"] = statistics.median(r["seconds"] for r in runs)
            row["cpu_seconds"] = statistics.median(r["cpu_seconds"] for r in runs)
            row["peak_rss_bytes"] = statistics.median(r["peak_rss_bytes"] for r in runs)
            row["repeats"] = repeats
            rows.append(row)
            log(f"# {model:6s} {variant:10s} {row['seconds']:8.3f} s wall {row['cpu_seconds']:8.3f} s CPU")
    return rows


def format_table(rows: List[dict]) -> str:
    head = (
        "| model | variant | params | time (s) | GB/s | vs eager | vs loop | CPU (s) | CPU vs eager | CPU vs loop "
        "| peak RSS (MB) | x params |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [head]
    by_model: Dict[str, Dict[str, dict]] = {}
    for r in rows:
        if "skipped" not in r:
            by_model.setdefault(r["model"], {})[r["variant"]] = r
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['model']} | skipped: {r['skipped']} | | | | | | | | | | |")
            continue
        ref = by_model[r["model"]]
        eager = ref.get("eager", {}).get("seconds")
        loop = ref.get("loop", {}).get("seconds")
        ceager = ref.get("eager", {}).get("cpu_seconds")
        cloop = ref.get("loop", {}).get("cpu_seconds")
        s, c = r["seconds"], r["cpu_seconds"]

        def ratio(x, y):
            return "" if x is None else f"{x / y:.1f}x"

        lines.append(
            f"| {r['model']} | {r['variant']} | {r['params'] / 1e6:.1f}M | {s:.3f} | {r['bytes'] / s / 1e9:.2f} | "
            f"{ratio(eager, s)} | {ratio(loop, s)} | {c:.3f} | {ratio(ceager, c)} | {ratio(cloop, c)} | "
            f"{r['peak_rss_bytes'] / 1e6:.0f} | {r['peak_rss_bytes'] / r['bytes']:.2f} |"
        )
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m philoxinit bench --model",
        description="Whole-model init: eager construction vs meta + init loop vs philoxinit.materialize",
    )
    p.add_argument("--models", default=",".join(MODELS), help=f"comma-separated, from {', '.join(MODELS)}")
    p.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, from {', '.join(VARIANTS)}")
    p.add_argument("--repeats", type=int, default=1, help="fresh processes per variant (median; default 1)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per process")
    p.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    p.add_argument(
        "--huge-pages",
        action="store_true",
        help="every process with THP_MEM_ALLOC_ENABLE=1 (torch's allocator asks for transparent huge pages)",
    )
    p.add_argument("--worker", nargs=2, metavar=("MODEL", "VARIANT"), help=argparse.SUPPRESS)
    return p


def run_model_bench(argv: Optional[List[str]] = None) -> int:
    """Entry point: ``run_model_bench(['--models', 'gpt2'])``; prints a markdown table."""
    args = _parser().parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(*args.worker)))
        return 0
    models = [m for m in args.models.split(",") if m]
    variants = [v for v in args.variants.split(",") if v]
    for m in models:
        if m not in MODELS:
            print(f"unknown model {m!r}; choose from {', '.join(MODELS)}", file=sys.stderr)
            return 2
    for v in variants:
        if v not in VARIANTS:
            print(f"unknown variant {v!r}; choose from {', '.join(VARIANTS)}", file=sys.stderr)
            return 2
    log: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    rows = measure(models, variants, args.repeats, args.timeout, log, args.huge_pages)
    print(format_table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(run_model_bench())
