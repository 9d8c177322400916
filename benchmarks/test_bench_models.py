"""pytest-benchmark cases for whole-model init: ``pytest benchmarks/test_bench_models.py --benchmark-only``.

The GPT-2-small-shaped model (124M parameters) of philoxinit.bench_models, built on meta each round:
``to_empty`` + every module's ``reset_parameters()`` against ``philoxinit.materialize``. In one
process, so peak memory is not measured here (``python -m philoxinit bench --model`` does that).
"""

import pytest
import torch

import philoxinit
from philoxinit.bench_models import gpt2_small


def _meta():
    with torch.device("meta"):
        return gpt2_small()


def _reset_loop():
    m = _meta()
    m.to_empty(device="cpu")
    m.lm_head.weight = m.wte.weight
    for sub in m.modules():
        if hasattr(sub, "reset_parameters"):
            sub.reset_parameters()
    return m


def _materialize():
    return philoxinit.materialize(_meta(), "cpu", seed=0)


@pytest.mark.parametrize("how", ["reset_parameters loop", "philoxinit.materialize"])
def test_gpt2_small_init(benchmark, how):
    fn = _reset_loop if how.startswith("reset") else _materialize
    m = benchmark.pedantic(fn, rounds=3, iterations=1, warmup_rounds=1)
    assert not any(p.is_meta for p in m.parameters())
