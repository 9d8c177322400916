"""``python -m philoxinit <command>``: bench, info, demo."""

from __future__ import annotations

import sys

USAGE = """\
usage: python -m philoxinit <command> [options]

commands:
  bench   philoxinit vs torch.nn.init (and fill_) throughput table
  info    version, backend, CPU instruction sets, threads, CUDA
  demo    why Xavier and Kaiming initialization work, measured

'python -m philoxinit <command> --help' describes a command's options."""


def _command(name: str):
    # Imported lazily: `info` must work even where a heavier module fails to import.
    if name == "bench":
        from . import bench

        return bench.main
    if name == "info":
        from . import info

        return info.main
    if name == "demo":
        from . import demo

        return demo.main
    return None


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE, file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    command = _command(argv[0])
    if command is None:
        print(f"{USAGE}\n\npython -m philoxinit: unknown command {argv[0]!r}", file=sys.stderr)
        return 2
    return int(command(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
