"""bench's machine description and picture: the last-level cache read from sysfs, and the plot's
"of fill_" figure only for tensors larger than that cache."""

import pytest

from philoxinit import bench
from philoxinit.bench import _machine, _report


def _result(nbytes, philoxinit_s, torch_s, fill_s):
    case = bench.CASES[0]
    return bench.Result(
        case,
        "float32",
        (nbytes // 4, 1),
        nbytes,
        bench.Timing([philoxinit_s]),
        bench.Timing([torch_s]),
        bench.Timing([fill_s]),
    )


@pytest.mark.parametrize(
    "text, expected",
    [("48K\n", 48 << 10), ("105M", 105 << 20), ("1G", 1 << 30), ("512", 512), ("", None), ("lots", None)],
)
def test_cache_size_parses_sysfs_sizes(text, expected):
    assert _machine.cache_size(text) == expected


def _cache(directory, index, level, kind, size):
    d = directory / f"index{index}"
    d.mkdir()
    (d / "level").write_text(f"{level}\n")
    (d / "type").write_text(f"{kind}\n")
    (d / "size").write_text(f"{size}\n")


def test_llc_is_the_highest_data_cache_level(tmp_path):
    _cache(tmp_path, 0, 1, "Data", "48K")
    _cache(tmp_path, 1, 1, "Instruction", "32K")
    _cache(tmp_path, 2, 2, "Unified", "2048K")
    _cache(tmp_path, 3, 3, "Unified", "36M")
    assert _machine.llc_bytes(str(tmp_path)) == 36 << 20
    assert _machine.llc_bytes(str(tmp_path / "missing")) is None


def test_bar_label_shows_fraction_of_fill_only_out_of_cache():
    small = _result(1 << 20, 1.0, 4.0, 0.5)  # in cache: only the speed-up
    big = _result(256 << 20, 1.0, 4.0, 0.8)
    assert _report.bar_label(small, 32 << 20) == "4x"
    assert _report.bar_label(_result(1 << 20, 1.0, 122.4, 0.5), 32 << 20) == "122x"
    assert _report.bar_label(big, 32 << 20) == "4x\n80% of fill_"
    assert _report.bar_label(big, 512 << 20) == "4x"


@pytest.mark.parametrize("llc", [None, 32 << 20])
def test_plot_writes_a_png(tmp_path, llc):
    pytest.importorskip("matplotlib")
    png = tmp_path / "bench.png"
    results = [_result(1 << 14, 1e-6, 3e-6, 1e-6), _result(256 << 20, 0.03, 0.3, 0.02)]
    bench.plot(results, str(png), title="some CPU", llc_bytes=llc)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
