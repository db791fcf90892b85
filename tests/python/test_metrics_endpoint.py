"""metrics_listen: the Python Tracker serves /metrics (Prometheus text format) from the C++
library's own threads, which need no GIL, from its start until stop(); bad addresses are an
OptionsError."""
import socket
import urllib.error
import urllib.request

import pytest

import epochwatt


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return r.headers["Content-Type"], r.read().decode()


def test_metrics_listen_serves_the_live_joules_until_stop():
    port = free_port()
    clock = epochwatt.ManualClock()
    meter = epochwatt.constant_power_meter("py:gpu0", "gpu", "gpu:0", 200.0, "counter")
    t = epochwatt.Tracker(2, clock=clock, meters=[meter], discover_meters=False, console=False,
                          write_json_summary=False, metrics_listen=f":{port}")
    clock.advance(3.0)
    t.epoch_start()  # a boundary at 3 s: every meter is read then; flush() waits for that round
    t.flush()
    content_type, text = scrape(port)
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    line = next(l for l in text.splitlines() if l.startswith("epochwatt_device_energy_joules_total{"))
    assert 'rank="0"' in line and 'component="gpu"' in line and 'meter="py:gpu0"' in line
    assert float(line.rsplit(" ", 1)[1]) == 200.0 * 3.0
    t.stop()
    with pytest.raises(urllib.error.URLError):
        scrape(port)


@pytest.mark.parametrize("bad", ["9400", "example.org:9400", ":70000"])
def test_a_bad_address_is_an_options_error(bad):
    with pytest.raises(epochwatt.OptionsError, match="metrics_listen"):
        epochwatt.Tracker(1, sim_cpu="c", sim_cpu_tdp=10.0, console=False, metrics_listen=bad)
