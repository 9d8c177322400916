"""Whole-model init benchmark (script): ``python benchmarks/bench_models.py [--models gpt2,llama,vit]``.

The same as ``python -m philoxinit bench --model``: eager construction vs meta + to_empty + the
library's init loop vs ``philoxinit.materialize``, each variant in a fresh process (time, throughput,
peak RSS). See python/philoxinit/bench_models.py.
"""

import sys

from philoxinit.bench_models import run_model_bench

if __name__ == "__main__":
    sys.exit(run_model_bench(sys.argv[1:]))
