"""Smoke test of an installed philoxinit wheel (run outside the source tree).

Imports the package, prints `info`, and fills one tensor per distribution and dtype with the
compiled kernels, checking each against the pure-PyTorch fallback bit for bit.
"""

import os
import subprocess
import sys

import torch

import philoxinit as P

assert "site-packages" in P.__file__, f"not testing an installed wheel: {P.__file__}"
info = P.backend()
assert info.name == "compiled", info
subprocess.run([sys.executable, "-m", "philoxinit", "info"], check=True)

FILLS = {
    "uniform": lambda t: P.uniform_(t, -1.0, 3.0, seed=1),
    "normal": lambda t: P.normal_(t, 0.5, 2.0, seed=2),
    "trunc_normal": lambda t: P.trunc_normal_(t, 0.0, 1.0, -1.0, 2.5, seed=3),
    "kaiming_uniform": lambda t: P.kaiming_uniform_(t, seed=4),
}
for name, fill in FILLS.items():
    for dtype in (torch.float32, torch.float64, torch.bfloat16, torch.float16):
        compiled = fill(torch.empty(129, 257, dtype=dtype))
        os.environ["PHILOXINIT_BACKEND"] = "torch"
        fallback = fill(torch.empty(129, 257, dtype=dtype))
        del os.environ["PHILOXINIT_BACKEND"]
        assert torch.equal(compiled, fallback), (name, dtype)
bits = P.random_bits_(torch.empty(4, dtype=torch.int32), seed=0)
assert [b & 0xFFFFFFFF for b in bits.tolist()] == [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]
print(f"wheel smoke test passed: {len(FILLS) * 4} fills equal the fallback, raw words match Philox4x32-10")
