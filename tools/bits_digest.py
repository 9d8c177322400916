"""Prints a digest of the bits philoxinit writes for fixed seeds, one line per case, so that runs
under different torch versions (or builds, or machines) can be compared with `diff`.

    python tools/bits_digest.py            # the compiled kernels (what is installed)
    PHILOXINIT_BACKEND=torch python tools/bits_digest.py     # the pure-torch fallback

Cases: uniform_, normal_ and trunc_normal_ in float32, bfloat16 and float64 (a 257 x 129 tensor
and a strided view), and a small model built on the meta device and materialized with seed 0.
The first line names the torch version and backend; it is the only line allowed to differ.
"""

import hashlib

import torch
import torch.nn as nn

import philoxinit as P


def digest(t: torch.Tensor) -> str:
    return hashlib.sha256(t.detach().contiguous().view(torch.uint8).numpy().tobytes()).hexdigest()[:16]


def tensors():
    fills = {
        "uniform_(-1, 3)": lambda t: P.uniform_(t, -1.0, 3.0, seed=11),
        "normal_(0.5, 2)": lambda t: P.normal_(t, 0.5, 2.0, seed=12),
        "trunc_normal_(0, 0.02, -0.04, 0.04)": lambda t: P.trunc_normal_(t, 0.0, 0.02, -0.04, 0.04, seed=13),
        "trunc_normal_(0, 1, -1, 2.5)": lambda t: P.trunc_normal_(t, 0.0, 1.0, -1.0, 2.5, seed=14),
    }
    for name, fill in fills.items():
        for dtype in (torch.float32, torch.bfloat16, torch.float64):
            t = torch.empty(257, 129, dtype=dtype)
            yield f"{name} {dtype} 257x129", fill(t)
            base = torch.zeros(129, 514, dtype=dtype)
            fill(base[:, ::2].t())
            yield f"{name} {dtype} strided", base


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 32)
        self.conv = nn.Conv2d(3, 8, 3)
        self.block = nn.Sequential(nn.Linear(32, 64), nn.LayerNorm(64), nn.GELU(), nn.Linear(64, 32))
        self.attn = nn.MultiheadAttention(32, 4)


def model():
    m = P.deferred_init(Small)
    P.materialize(m, "cpu", seed=0)
    for name, value in sorted(m.state_dict().items()):
        yield f"model {name}", value


def main() -> None:
    print(f"torch {torch.__version__}, backend {P.backend().name}")
    for name, t in (*tensors(), *model()):
        print(f"{digest(t)}  {name}")


if __name__ == "__main__":
    main()
