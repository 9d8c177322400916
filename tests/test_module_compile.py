"""torch.compile(fullgraph=True) of code that calls philoxinit: the philoxinit::fill_ custom op."""

import math

import pytest
import torch

import philoxinit as P
from philoxinit._compat import TORCH_VERSION


def init_fn(w, b, z, bits):
    P.kaiming_uniform_(w, a=math.sqrt(5), seed=7)
    P.normal_(b, 0.0, 0.02, seed=2**64 - 1, stream=3, offset=5)  # 64-bit values cross the op boundary
    P.trunc_normal_(z, std=0.02, seed=1)
    P.random_bits_(bits, seed=9)
    return w.sum() + b.sum()


def tensors():
    return torch.empty(16, 8), torch.empty(32), torch.empty(5, 5), torch.empty(12, dtype=torch.int32)


def test_fullgraph_equals_eager():
    torch._dynamo.reset()
    compiled = torch.compile(init_fn, fullgraph=True, backend="aot_eager")
    got, want = tensors(), tensors()
    compiled(*got)
    init_fn(*want)
    for g, w in zip(got, want):
        assert torch.equal(g, w)


def test_op_is_in_the_graph_and_the_key_is_drawn_at_run_time():
    torch._dynamo.reset()
    graphs = []

    def backend(gm, example_inputs):
        graphs.append(gm)
        return gm.forward

    def f(w):
        P.uniform_(w, -1, 1)  # no seed: the key comes from torch's default generator when it runs
        return w

    compiled = torch.compile(f, fullgraph=True, backend=backend)
    torch.manual_seed(3)
    a = compiled(torch.empty(64))
    b = compiled(torch.empty(64))
    torch.manual_seed(3)
    assert torch.equal(a, P.uniform_(torch.empty(64), -1, 1))
    assert not torch.equal(a, b)
    assert any("philoxinit.fill_" in str(gm.graph) for gm in graphs)


GEN = torch.Generator()


def test_generator_under_compile_is_an_error():
    if TORCH_VERSION < (2, 5):
        pytest.skip(
            "torch < 2.5's dynamo reports an exception raised in compiled code without its message (seen with 2.4)"
        )
    torch._dynamo.reset()

    def f(w):
        return P.normal_(w, generator=GEN)

    with pytest.raises(Exception, match="seed="):
        torch.compile(f, fullgraph=True, backend="aot_eager")(torch.empty(4))
