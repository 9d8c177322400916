"""Per-rank time and peak memory of initializing a large FSDP2 model built on meta.

    python benchmarks/sharded_init.py --world-size 4 --method shard-local
    methods: shard-local   philoxinit on each DTensor parameter: every rank fills only its shard
             full-slice    philoxinit fills each full parameter on every rank, which keeps its slice
             torch-slice   torch.nn.init fills each full parameter on every rank, which keeps its slice

The model (default: 4 blocks of width 4096, vocabulary 32000, 1.07e9 float32 parameters) is built
on the meta device, sharded with ``fully_shard`` on a 1-D mesh of ``--world-size`` CPU ranks (gloo),
and materialized with ``to_empty``; only the init is timed. Peak memory is the growth of each
rank's peak resident set during the init (wall and CPU seconds are both reported: on a busy
machine the CPU time of each rank is the steadier figure) (the shard's own pages are first touched there, so the
shard-local figure is the shard's size; full-then-slice adds the largest full parameter). Each
parameter is handled one at a time, the most memory-frugal way to init full tensors and slice.
Rank 0 prints one JSON line with every rank's figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import socket
import subprocess
import sys
import time


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def _current_rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def build(width: int, layers: int, vocab: int):
    import torch.nn as nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1 = nn.LayerNorm(width)
            self.qkv = nn.Linear(width, 3 * width, bias=False)
            self.proj = nn.Linear(width, width, bias=False)
            self.norm2 = nn.LayerNorm(width)
            self.fc1 = nn.Linear(width, 4 * width, bias=False)
            self.fc2 = nn.Linear(4 * width, width, bias=False)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, width)
            self.blocks = nn.ModuleList(Block() for _ in range(layers))
            self.norm = nn.LayerNorm(width)
            self.head = nn.Linear(width, vocab, bias=False)

    return Model()


def rank_main(args) -> None:
    import torch
    import torch.distributed as dist
    import torch.nn as nn
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.tensor import distribute_tensor

    import philoxinit

    torch.set_num_threads(max(1, (os.cpu_count() or 1) // args.world_size))
    dist.init_process_group("gloo")
    rank, ws = dist.get_rank(), dist.get_world_size()
    mesh = init_device_mesh("cpu", (ws,))
    with torch.device("meta"):
        model = build(args.width, args.layers, args.vocab)
    for b in model.blocks:
        fully_shard(b, mesh=mesh)
    fully_shard(model, mesh=mesh)
    model.to_empty(device="cpu")
    n_params = sum(p.numel() for p in model.parameters())  # global numels
    local_bytes = sum(p.to_local().numel() * p.element_size() for p in model.parameters())

    def rules(mod, p):
        """(philoxinit fill, torch.nn.init fill) for one parameter."""
        if isinstance(mod, nn.Linear):
            return (lambda t, **kw: philoxinit.kaiming_uniform_(t, a=math.sqrt(5), **kw),
                    lambda t: torch.nn.init.kaiming_uniform_(t, a=math.sqrt(5)))  # fmt: skip
        if isinstance(mod, nn.Embedding):
            return (
                lambda t, **kw: philoxinit.normal_(t, 0.0, 0.02, **kw),
                lambda t: torch.nn.init.normal_(t, 0.0, 0.02),
            )
        return (lambda t, **kw: philoxinit.ones_(t), lambda t: torch.nn.init.ones_(t))  # no random draw

    params = [(m, p) for m in model.modules() for p in m.parameters(recurse=False)]
    dist.barrier()
    rss0 = _current_rss_bytes()
    t0, c0 = time.perf_counter(), time.process_time()
    with torch.no_grad():
        for i, (mod, p) in enumerate(params):
            fill, torch_fill = rules(mod, p)
            if args.method == "shard-local":
                fill(p, seed=1234, stream=i)
            else:
                full = torch.empty(p.shape, dtype=p.dtype)
                if args.method == "full-slice":
                    fill(full, seed=1234, stream=i)
                else:
                    torch_fill(full)
                p.to_local().copy_(distribute_tensor(full, mesh, p.placements, src_data_rank=None).to_local())
                del full
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak_growth = max(0, _peak_rss_bytes() - rss0)
    check = ""
    if args.verify and args.method == "shard-local":  # every rank: its shard == the slice of the full tensor
        ok = True
        for i, (mod, p) in enumerate(params):
            fill, _ = rules(mod, p)
            if isinstance(mod, nn.LayerNorm):
                continue
            full = fill(torch.empty(p.shape, dtype=p.dtype), seed=1234, stream=i)
            ok &= torch.equal(p.to_local(), distribute_tensor(full, mesh, p.placements, src_data_rank=None).to_local())
            del full
        check = "shards == slices of full tensors" if ok else "MISMATCH"
    row = dict(rank=rank, seconds=round(elapsed, 3), cpu_seconds=round(cpu, 3), peak_rss_growth_gib=round(peak_growth / 2**30, 3),
               shard_gib=round(local_bytes / 2**30, 3), check=check)  # fmt: skip
    rows = [None] * ws
    dist.all_gather_object(rows, row)
    if rank == 0:
        print(
            json.dumps(
                dict(
                    method=args.method,
                    world_size=ws,
                    params=n_params,
                    threads=torch.get_num_threads(),
                    backend=philoxinit.backend().name,
                    load=os.getloadavg()[0],
                    ranks=rows,
                )
            )
        )
    dist.destroy_process_group()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--world-size", type=int, default=2)
    ap.add_argument("--method", choices=["shard-local", "full-slice", "torch-slice"], default="shard-local")
    ap.add_argument("--width", type=int, default=4096)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--verify", action="store_true", help="also check shards against full tensors (slow)")
    ap.add_argument("--rank-process", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rank_process:
        return rank_main(args)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = [sys.executable, __file__, "--rank-process"] + sys.argv[1:]
    procs = [
        subprocess.Popen(
            argv,
            env=dict(
                os.environ,
                MASTER_ADDR="127.0.0.1",
                MASTER_PORT=str(port),
                RANK=str(r),
                WORLD_SIZE=str(args.world_size),
                LOCAL_RANK=str(r),
            ),
        )  # fmt: skip
        for r in range(args.world_size)
    ]
    sys.exit(max(p.wait() for p in procs))


if __name__ == "__main__":
    main()
