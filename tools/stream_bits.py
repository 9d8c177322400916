"""Write philoxinit's raw Philox words to stdout, as a statistical battery reads them.

    python tools/stream_bits.py [--seed K] [--stream S] [--chunk N] [--limit WORDS] | dieharder -a -g 200

The words are ``random_bits_``'s x_0, x_1, x_2, ... of one (key, stream) in order (docs/contract.md
section 1), each written as 4 little-endian bytes. Chunks of ``--chunk`` words continue each other
exactly: chunk k is filled with ``offset = k * chunk / 4`` blocks. Runs until stdout closes (or until
``--limit`` words have been written).
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=lambda s: int(s, 0), default=0x0123456789ABCDEF)
    p.add_argument("--stream", type=lambda s: int(s, 0), default=0)
    p.add_argument("--chunk", type=int, default=1 << 22, help="words per fill (a multiple of 4)")
    p.add_argument("--limit", type=int, default=0, help="stop after this many words (0: never)")
    p.add_argument("--backend", choices=["compiled", "torch"], default="compiled")
    args = p.parse_args(argv)
    if args.chunk <= 0 or args.chunk % 4:
        p.error("--chunk must be a positive multiple of 4")
    if args.backend == "torch":
        os.environ["PHILOXINIT_BACKEND"] = "torch"

    import torch

    import philoxinit

    buf = torch.empty(args.chunk, dtype=torch.int32)
    out = sys.stdout.buffer
    block, written = 0, 0
    try:
        while args.limit <= 0 or written < args.limit:
            philoxinit.random_bits_(buf, seed=args.seed, stream=args.stream, offset=block % (1 << 64))
            n = args.chunk if args.limit <= 0 else min(args.chunk, args.limit - written)
            data = buf[:n].numpy()
            if sys.byteorder != "little":
                data = data.byteswap()
            out.write(data.tobytes())
            written += n
            block += args.chunk // 4
        out.flush()
    except BrokenPipeError:  # the reader has all it wants; skip the flush at exit
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
