"""``--amp auto`` on CPUs with and without native bf16 (faked CPUs and measurements), the cached micro-benchmark
and the one warning for an explicit bf16 that will be slow."""

from __future__ import annotations

import json

import pytest
import torch

from options.test_options import TestOptions
from options.train_options import TrainOptions
from util import precision

AMD_EPYC_AVX2 = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
flags\t\t: fpu sse sse2 avx fma f16c avx2 bmi2
"""
XEON_AMX = """processor\t: 0
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu avx avx2 fma avx512f avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8
"""
ARM_BF16 = """processor\t: 0
Features\t: fp asimd sve bf16
CPU part\t: 0xd40
"""


@pytest.fixture
def fake_cpu(monkeypatch, tmp_path):
    """Install a fake /proc/cpuinfo and a fake micro-benchmark (counting its calls); a fresh cache folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(precision, "_MEASURED", {})
    monkeypatch.setattr(precision, "_WARNED", set())
    calls = []
    real_cpu_info = precision.cpu_info

    def install(cpuinfo: str, speedup: float):
        monkeypatch.setattr(precision, "cpu_info", lambda text=None: real_cpu_info(cpuinfo))

        def measure():
            calls.append(speedup)
            return {"fp32_s": 0.01, "bf16_s": 0.01 / speedup, "bf16_speedup": speedup, "repeats": 5, "threads": 2,
                    "measured": "fake"}

        monkeypatch.setattr(precision, "measure_bf16_speedup", measure)
        return calls

    return install


def test_cpu_flags_and_model_are_read_from_cpuinfo():
    info = precision.cpu_info(AMD_EPYC_AVX2)
    assert info["model"] == "AMD EPYC" and info["flags"] == ["avx", "avx2", "fma", "f16c"]
    assert not precision.native_bf16(info)
    assert precision.native_bf16(precision.cpu_info(XEON_AMX))
    assert "amx_bf16" in precision.cpu_info(XEON_AMX)["flags"]
    assert precision.native_bf16(precision.cpu_info(ARM_BF16))
    assert info["torch_capability"] == torch.backends.cpu.get_cpu_capability()


def test_auto_never_picks_bf16_without_native_bf16_and_does_not_measure(fake_cpu):
    calls = fake_cpu(AMD_EPYC_AVX2, speedup=5.0)  # even a (bogus) fast measurement cannot make it bf16
    assert precision.resolve_amp("auto", on_cuda=False) == "none"
    assert calls == []


@pytest.mark.parametrize(("speedup", "expected"), [(2.4, "bf16"), (1.05, "none"), (0.5, "none")])
def test_auto_follows_the_measurement_on_a_native_bf16_cpu(fake_cpu, speedup, expected):
    calls = fake_cpu(XEON_AMX, speedup=speedup)
    assert precision.resolve_amp("auto", on_cuda=False) == expected
    assert precision.resolve_amp("auto", on_cuda=False) == expected
    assert len(calls) == 1  # measured once, then remembered


def test_measurement_is_cached_per_machine_on_disk(fake_cpu, monkeypatch):
    calls = fake_cpu(XEON_AMX, speedup=1.8)
    assert precision.resolve_amp("auto", on_cuda=False) == "bf16"
    cached = json.loads(precision.cache_file().read_text())
    (key, entry), = cached.items()
    assert "Xeon" in key and torch.__version__ in key and entry["bf16_speedup"] == 1.8
    monkeypatch.setattr(precision, "_MEASURED", {})  # a new process: reads the file, does not measure again
    assert precision.resolve_amp("auto", on_cuda=False) == "bf16" and len(calls) == 1


def test_explicit_bf16_on_a_cpu_without_native_bf16_warns_once_with_the_slowdown(fake_cpu, capsys):
    fake_cpu(AMD_EPYC_AVX2, speedup=0.25)
    assert precision.choose_amp("bf16", on_cuda=False) == "bf16"  # the user's choice is kept
    assert precision.choose_amp("bf16", on_cuda=False) == "bf16"
    err = capsys.readouterr().err
    assert err.count("warning:") == 1
    assert "without native bf16 (AMD EPYC" in err and "4.0x slower than fp32" in err


def test_explicit_bf16_on_a_native_cpu_or_none_does_not_warn(fake_cpu, capsys):
    calls = fake_cpu(XEON_AMX, speedup=0.9)
    assert precision.choose_amp("bf16", on_cuda=False) == "bf16"
    assert precision.choose_amp("none", on_cuda=False) == "none"
    assert capsys.readouterr().err == "" and calls == []


def test_train_and_test_options_resolve_auto_from_the_cpu(fake_cpu, crop_dataroot):
    fake_cpu(XEON_AMX, speedup=2.0)
    flags = ["--dataroot", str(crop_dataroot), "--gpu_ids", "-1", "--quiet"]
    assert TrainOptions().parse(flags).amp == "bf16"
    assert TestOptions().parse([*flags, "--name", "no_such_run"]).amp == "bf16"
    assert TrainOptions().parse([*flags, "--amp", "none"]).amp == "none"


def test_the_real_micro_benchmark_measures_both_precisions_and_keeps_the_random_stream():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    result = precision.measure_bf16_speedup(max_repeats=1, budget_s=0.0)
    assert torch.equal(torch.rand(3), expected)
    assert result["fp32_s"] > 0 and result["bf16_s"] > 0 and result["repeats"] == 1
    assert result["bf16_speedup"] == pytest.approx(result["fp32_s"] / result["bf16_s"], rel=0.01)
