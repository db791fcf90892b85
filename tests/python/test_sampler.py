"""The sampler thread: a device that vanishes mid-run is a warning, never a Python crash; the
sampler reads meters while Python holds the GIL; sync_cuda runs before each boundary."""
import calendar
import os
import sys
import time

import pytest

import epochwatt


def rapl_tree(root, uj):
    zone = root / "intel-rapl:0"
    zone.mkdir(parents=True)
    (zone / "name").write_text("package-0\n")
    (zone / "max_energy_range_uj").write_text("262143328850\n")
    set_energy(zone, uj)
    return zone


def set_energy(zone, uj):
    tmp = zone / "energy_uj.tmp"
    tmp.write_text(f"{uj}\n")
    os.replace(tmp, zone / "energy_uj")  # never a half-written file for the sampler


def err_log_time(line):
    # "2025-01-01 00:00:00,123 - CarbonTrackerThread - WARNING - ..." in local time (TZ=UTC here)
    stamp = line.split(" - ")[0]
    whole, ms = stamp.split(",")
    return calendar.timegm(time.strptime(whole, "%Y-%m-%d %H:%M:%S")) + int(ms) / 1000.0


def test_vanishing_rapl_zone_is_a_warning_logged_while_python_holds_the_gil(tmp_path):
    zone = rapl_tree(tmp_path / "powercap", 10_000_000)
    t = epochwatt.Tracker(epochs=2, components="cpu", powercap_root=str(tmp_path / "powercap"),
                          update_interval=0.05, log_dir=str(tmp_path / "logs"), console=False)
    assert [(m.id, m.device_name, m.method) for m in t.meters()] == [("rapl:intel-rapl:0", "cpu:0", "counter")]
    t.epoch_start()
    t.flush()
    set_energy(zone, 12_500_000)  # 2.5 J drawn
    time.sleep(0.2)
    old = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    try:
        removed = time.time()  # taken before the removal: the sampler may see it at once
        os.remove(zone / "energy_uj")  # the package's counter vanishes
        start = time.time()
        while time.time() < start + 0.6:  # pure Python: the GIL is never given up here
            pass
        end = time.time()
    finally:
        sys.setswitchinterval(old)
    t.epoch_end()
    t.stop()
    warnings = [l for l in open(t.error_log_path).read().splitlines() if "Meter rapl:intel-rapl:0 (cpu:0) stopped:" in l]
    assert len(warnings) == 1, warnings
    assert " - CarbonTrackerThread - WARNING - " in warnings[0]
    assert "Energy measured until then is kept; the run goes on without it." in warnings[0]
    # logged by the sampler once the counter was gone and during the busy loop, not after it: it
    # never waited for the GIL (err log time stamps have millisecond resolution)
    assert removed - 0.001 <= err_log_time(warnings[0]) <= end - 0.3
    epoch = t.epochs()[0]
    assert epoch.joules == pytest.approx(2.5)
    assert epoch.devices[0].complete is False
    assert t.totals().epochs == 1


class RecordingSync:
    def __init__(self, log):
        self.log = log

    def __call__(self):
        self.log.append("synchronize")


def test_sync_cuda_runs_before_each_boundary_with_a_substituted_synchronize(monkeypatch):
    torch = pytest.importorskip("torch")
    calls = []
    # torch.cuda.synchronize replaced, as the CPU has no CUDA: sync_cuda=True looks it up at each call
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append("synchronize"))
    clock = epochwatt.ManualClock()
    meter = epochwatt.constant_power_meter("m", "gpu", "g", 100.0)
    t = epochwatt.Tracker(epochs=2, clock=clock, meters=[meter], discover_meters=False, console=False,
                          sync_cuda=True)

    class Recorder:  # the order of events: synchronize before the boundary is stamped
        def __init__(self, inner):
            self.inner = inner

        def epoch_start(self):
            calls.append("epoch_start")
            self.inner.epoch_start()

        def epoch_end(self):
            calls.append("epoch_end")
            return self.inner.epoch_end()

        def __getattr__(self, name):
            return getattr(self.inner, name)

    t._t = Recorder(t._t)
    with t.epoch():
        pass
    with epochwatt.track("w", tracker=t):
        calls.append("work")
    assert calls[:4] == ["synchronize", "epoch_start", "synchronize", "epoch_end"]
    assert calls[4:] == ["synchronize", "work", "synchronize"]
    t.stop()


def test_sync_cuda_is_off_without_cuda_and_never_imports_torch():
    code = """
import sys, epochwatt
t = epochwatt.Tracker(epochs=1, sim_gpu="g", sim_gpu_watts=1, console=False)
print("torch" in sys.modules, t._sync is None)
t.stop()
"""
    from conftest import run_python
    r = run_python(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "True"]
    # with torch imported but no CUDA (this machine), auto stays off
    r = run_python("import torch, epochwatt\nt = epochwatt.Tracker(epochs=1, sim_gpu='g', sim_gpu_watts=1, console=False)\n"
                   "print(torch.cuda.is_available(), t._sync is None)\nt.stop()")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "True"]


def test_sync_cuda_accepts_a_callable():
    calls = []
    t = epochwatt.Tracker(epochs=1, sim_gpu="g", sim_gpu_watts=1, console=False, sync_cuda=lambda: calls.append(1))
    with t.epoch():
        pass
    t.stop()
    assert calls == [1, 1]


def test_without_libcurl_live_providers_fall_back_to_the_tables(tmp_path):
    # libcurl is loaded at the first live request; where it cannot be, the run goes on with the
    # embedded table and says why once (EPOCHWATT_CURL_LIBRARY names a library that is not there).
    from conftest import run_python
    env = dict(os.environ, EPOCHWATT_CURL_LIBRARY=str(tmp_path / "no-libcurl.so.4"), EPOCHWATT_OFFLINE="0")
    code = f"""
import epochwatt
t = epochwatt.Tracker(epochs=1, sim_cpu="c", sim_cpu_tdp=10, country="GB", geolocate=False,
                      live_providers=["carbonintensity.org.uk"], cache_dir="none",
                      provider_urls={{"carbonintensity.org.uk": "http://127.0.0.1:9"}},
                      log_dir={str(tmp_path)!r}, console=False)
t.epoch_start(); t.epoch_end(); t.flush(); t.stop()
print(t.totals().intensity_source, round(t.totals().intensity_g_per_kwh, 3))
print(open(t.error_log_path).read())
"""
    r = run_python(code, env=env)
    assert r.returncode == 0, r.stderr
    first, err = r.stdout.split("\n", 1)
    assert first.split()[0] == "embedded-table"
    assert "libcurl is not available" in err and "no-libcurl.so.4" in err
