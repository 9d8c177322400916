"""`python -m philoxinit bench | info | demo`: the command line runs and says what it measured.

No timing is asserted: only that the run finishes, writes what it promises, and that every
measurement is a positive number.
"""

import json
import math
import os
import subprocess
import sys

import pytest

from philoxinit import __main__ as cli
from philoxinit import bench


def _run(*args, timeout=300):
    env = dict(os.environ)
    env.pop("PHILOXINIT_BACKEND", None)
    return subprocess.run(
        [sys.executable, "-m", "philoxinit", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "out.json"
    p = _run("bench", "--quick", "--sizes", "64x64,128x96", "--repeats", "2", "--no-progress", "--json", str(out))
    return p, out


def test_bench_quick_json(quick_run):
    p, out = quick_run
    assert p.returncode == 0, p.stderr
    doc = json.loads(out.read_text())
    assert set(doc) == {"machine", "settings", "results"}
    m = doc["machine"]
    for key in ("cpu", "cores", "torch", "torch_threads", "philoxinit", "backend", "cpu_isa", "date"):
        assert key in m, key
    assert m["cores"] >= 1 and m["torch_threads"] >= 1
    assert doc["settings"]["repeats"] == 2
    assert doc["settings"]["sizes"] == [[64, 64], [128, 96]]

    results = doc["results"]
    cases = {(r["case"], r["dtype"], tuple(r["size"])) for r in results}
    expected = {(c.name, d, s) for c in bench.CASES for d in bench.DTYPES for s in ((64, 64), (128, 96))}
    assert cases == expected and len(results) == len(expected)
    for r in results:
        assert r["bytes"] == r["numel"] * (4 if r["dtype"] == "float32" else 2)
        for side in ("philoxinit", "torch", "fill_"):
            s = r[side]
            assert "error" not in s, (r["case"], side, s.get("error"))
            assert s["runs"] == 2 and len(s["times_s"]) == 2 and s["calls_per_run"] >= 1
            assert all(t > 0 for t in s["times_s"])
            assert s["median_s"] > 0 and s["gbps"] > 0
            assert math.isclose(s["gbps"], r["bytes"] / s["median_s"] / 1e9, rel_tol=1e-9)
        assert math.isclose(r["speedup"], r["torch"]["median_s"] / r["philoxinit"]["median_s"], rel_tol=1e-9)
        assert math.isclose(r["fraction_of_fill"], r["fill_"]["median_s"] / r["philoxinit"]["median_s"], rel_tol=1e-9)


def test_bench_prints_machine_line_and_table(quick_run):
    p, _ = quick_run
    lines = p.stdout.splitlines()
    assert "torch" in lines[0] and "philoxinit" in lines[0] and "CPU ISA" in lines[0]
    header = next(line for line in lines if line.startswith("function"))
    for col in ("philoxinit GB/s", "torch GB/s", "speed-up", "fill_ GB/s", "of fill_"):
        assert col in header
    for c in bench.CASES:
        assert any(line.startswith(c.name + " ") for line in lines), c.name


def test_cpu_name_shows_family_and_model():
    x86 = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\n\nprocessor\t: 1\nmodel name\t: other\n"
    assert bench.cpu_name(x86) == "AMD EPYC (family 26, model 2)"
    arm = "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n"
    assert bench.cpu_name(arm) == ""
    assert bench.cpu_name("model name\t: Some CPU\n") == "Some CPU"


def test_bench_cold_counts_page_faults(tmp_path):
    out = tmp_path / "cold.json"
    rc = cli.main(
        [
            "bench",
            "--cold",
            "--sizes",
            "256x256",
            "--repeats",
            "2",
            "--cases",
            "kaiming_uniform_",
            "--dtypes",
            "float32",
            "--no-progress",
            "--json",
            str(out),
        ]
    )
    assert rc == 0
    (r,) = json.loads(out.read_text())["results"]
    assert r["philoxinit"]["gbps"] > 0 and len(r["philoxinit"]["minor_page_faults"]) == 2
    assert json.loads(out.read_text())["settings"]["cold"] is True


def test_bench_cases_with_commas_in_their_names(tmp_path):
    out = tmp_path / "cases.json"
    rc = cli.main(
        [
            "bench",
            "--sizes",
            "64x64",
            "--repeats",
            "1",
            "--dtypes",
            "float32",
            "--no-progress",
            "--cases",
            "trunc_normal_(std=0.02,a=-0.04,b=0.04), kaiming_uniform_",
            "--json",
            str(out),
        ]
    )
    assert rc == 0
    got = [r["case"] for r in json.loads(out.read_text())["results"]]
    assert got == ["trunc_normal_(std=0.02,a=-0.04,b=0.04)", "kaiming_uniform_"]


def test_bench_plot(tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "b.png"
    rc = cli.main(
        [
            "bench",
            "--sizes",
            "64x64",
            "--repeats",
            "1",
            "--cases",
            "kaiming_uniform_,trunc_normal_",
            "--no-progress",
            "--plot",
            str(png),
        ]
    )
    assert rc == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("backend", ["torch", "compiled"])
def test_bench_backend_picks_the_path(backend, monkeypatch, tmp_path):
    """--backend torch times the pure-PyTorch fallback (through PHILOXINIT_BACKEND, which the
    machine line and the JSON then report), --backend compiled the kernels."""
    monkeypatch.setenv("PHILOXINIT_BACKEND", "")  # bench sets it: recorded here, so restored after the test
    out = tmp_path / "backend.json"
    rc = cli.main(
        [
            "bench",
            "--backend",
            backend,
            "--sizes",
            "64x64",
            "--repeats",
            "1",
            "--dtypes",
            "float32",
            "--cases",
            "kaiming_normal_",
            "--no-progress",
            "--json",
            str(out),
        ]
    )
    assert rc == 0
    doc = json.loads(out.read_text())
    assert doc["machine"]["backend"] == backend and doc["settings"]["backend_forced"] == backend
    assert doc["results"][0]["philoxinit"]["gbps"] > 0


def test_bench_backend_triton_on_cpu_says_it_serves_gpus(monkeypatch, capsys):
    monkeypatch.setenv("PHILOXINIT_BACKEND", "")
    with pytest.raises(SystemExit) as e:
        cli.main(["bench", "--backend", "triton"])
    assert e.value.code == 2
    assert "serves GPU tensors only" in capsys.readouterr().err
    assert os.environ["PHILOXINIT_BACKEND"] == ""  # refused before it was set


@pytest.mark.parametrize(
    "args",
    [
        ["--sizes", "64"],
        ["--sizes", "axb"],
        ["--dtypes", "int8"],
        ["--cases", "no_such_case"],
        ["--repeats", "0"],
        ["--backend", "no_such_backend"],
        ["--model", "no_such_model"],
    ],
)
def test_bench_bad_arguments(args, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["bench", *args])
    assert e.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_info_json(capsys):
    assert cli.main(["info", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    import torch

    import philoxinit

    assert d["philoxinit"] == philoxinit.__version__
    assert d["torch"] == torch.__version__
    assert d["backend"]["name"] in ("compiled", "torch")
    assert d["torch_threads"] >= 1


def test_info_text(capsys):
    assert cli.main(["info"]) == 0
    assert capsys.readouterr().out.startswith("philoxinit ")


def test_bad_command_exits_nonzero_with_usage():
    p = _run("frobnicate")  # through `python -m`, as a user runs it
    assert p.returncode != 0
    assert "usage: python -m philoxinit" in p.stderr and "frobnicate" in p.stderr
    for command in ("bench", "info", "demo"):
        assert command in p.stderr


def test_missing_command_exits_nonzero_with_usage(capsys):
    assert cli.main([]) != 0
    assert "usage: python -m philoxinit" in capsys.readouterr().err


def test_help_lists_commands(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "bench" in out and "info" in out and "demo" in out


def test_bench_plot_without_matplotlib_is_a_clear_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(SystemExit) as e:
        cli.main(["bench", "--sizes", "64x64", "--plot", str(tmp_path / "b.png")])
    assert e.value.code == 2
    assert "pip install matplotlib" in capsys.readouterr().err
    assert not (tmp_path / "b.png").exists()


def test_bench_model_runs_the_model_benchmarks(monkeypatch):
    import philoxinit.bench_models as bm

    seen = []
    monkeypatch.setattr(bm, "run_model_bench", lambda argv: seen.append(argv) or 0)
    assert cli.main(["bench", "--model", "gpt2"]) == 0
    assert cli.main(["bench", "--model"]) == 0
    assert seen == [["--models", "gpt2"], ["--models", "gpt2,llama,vit"]]


def test_model_bench_measures_in_fresh_processes_and_passes_the_huge_page_switch():
    import philoxinit.bench_models as bm

    rows = bm.measure(["gpt2"], ["philoxinit"], timeout=300, log=lambda s: None, huge_pages=True)
    (row,) = rows
    assert 124e6 < row["params"] < 125e6
    assert row["huge_pages"] is True and row["seconds"] > 0
    assert row["peak_rss_bytes"] <= 1.2 * row["bytes"]
    assert "| gpt2 | philoxinit | 124.4M |" in bm.format_table(rows)
