"""Argument validation: every message of spec §2.1, with the original's exception type, and the
Python exception hierarchy (OptionsError is a ValueError, UsageError a RuntimeError)."""
import pytest

import epochwatt
from epochwatt.carbontracker import CarbonTracker
from epochwatt.carbontracker.tracker import ComponentNameError

SIM = dict(sim_cpu="c", sim_cpu_tdp=10.0, sim_gpu="g", sim_gpu_watts=10.0)

CASES = [
    (dict(sim_cpu="c"), "When using simulated CPU (sim_cpu), you must also specify the CPU TDP (sim_cpu_tdp)"),
    (dict(sim_gpu="g"), "When using simulated GPU (sim_gpu), you must also specify the GPU power consumption (sim_gpu_watts)"),
    (dict(SIM, sim_cpu=""), "CPU name must be a non-empty string."),
    (dict(SIM, sim_cpu=7), "CPU name must be a non-empty string."),
    (dict(SIM, sim_cpu_tdp=-1.0), "CPU TDP must be a non-negative number."),
    (dict(SIM, sim_cpu_tdp="95"), "CPU TDP must be a non-negative number."),
    (dict(SIM, sim_cpu_util=1.5), "CPU utilization must be between 0.0 and 1.0."),
    (dict(SIM, sim_cpu_util=-0.1), "CPU utilization must be between 0.0 and 1.0."),
    (dict(SIM, sim_gpu=""), "GPU name must be a non-empty string."),
    (dict(SIM, sim_gpu_watts=-5), "GPU watts must be a non-negative number."),
    (dict(SIM, sim_gpu_watts=None, sim_gpu="g"), "When using simulated GPU (sim_gpu), you must also specify the GPU power consumption (sim_gpu_watts)"),
    (dict(SIM, sim_gpu_util=2), "GPU utilization must be between 0.0 and 1.0."),
    (dict(SIM, epochs_before_pred=2, monitor_epochs=1), "monitor_epochs cannot be less than epochs_before_pred"),
    (dict(SIM, epochs_before_pred=0, monitor_epochs=0), "monitor_epochs cannot be zero"),
]


@pytest.mark.parametrize("kwargs,message", CASES)
def test_drop_in_raises_carbontrackers_value_errors(kwargs, message, tmp_path):
    with pytest.raises(ValueError) as e:
        CarbonTracker(epochs=3, log_dir=str(tmp_path), **kwargs)
    assert str(e.value) == message
    assert isinstance(e.value, epochwatt.OptionsError)


def test_zero_watts_and_zero_utilisation_are_allowed(tmp_path):
    # carbontracker 2.3.1 on: 0 W and util 0.0 are valid
    ct = CarbonTracker(epochs=1, log_dir=str(tmp_path), verbose=0, sim_cpu="c", sim_cpu_tdp=0,
                       sim_cpu_util=0.0, sim_gpu="g", sim_gpu_watts=0.0, sim_gpu_util=0)
    ct.stop()


def test_unknown_component_is_carbontrackers_component_name_error(tmp_path):
    with pytest.raises(ComponentNameError) as e:
        CarbonTracker(epochs=1, components="gpu,tpu", log_dir=str(tmp_path), **SIM)
    assert str(e.value) == "No component found with name 'tpu'."
    assert isinstance(e.value, ValueError)


def test_tracker_exceptions_keep_the_cpp_messages():
    assert issubclass(epochwatt.OptionsError, ValueError) and issubclass(epochwatt.OptionsError, epochwatt.Error)
    assert issubclass(epochwatt.UsageError, RuntimeError) and issubclass(epochwatt.UsageError, epochwatt.Error)
    with pytest.raises(epochwatt.OptionsError, match=r"^epochs must be a positive number of epochs, got 0\.$"):
        epochwatt.Tracker(epochs=0, **SIM)
    with pytest.raises(epochwatt.OptionsError, match=r"^pue must be a finite number >= 1\.0\.$"):
        epochwatt.Tracker(epochs=1, pue=0.5, **SIM)
    t = epochwatt.Tracker(epochs=2, console=False, **SIM)
    with pytest.raises(epochwatt.UsageError) as e:
        t.epoch_end()
    assert str(e.value) == "epoch_end() called without a matching epoch_start() (0 epoch(s) ended so far)."
    t.epoch_start()
    with pytest.raises(RuntimeError, match="is still open"):
        t.epoch_start()
    t.stop()


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'epoch'"):
        epochwatt.Tracker(epochs=1, epoch=3, **SIM)


def test_ignore_errors_logs_a_usage_error_instead_of_raising(tmp_path):
    t = epochwatt.Tracker(epochs=2, ignore_errors=True, log_dir=str(tmp_path), console=False, **SIM)
    t.epoch_end()  # no epoch open: logged, not raised
    t.stop()
    assert "Ignored error: epoch_end() called without a matching epoch_start()" in open(t.error_log_path).read()


def test_option_defaults_come_from_the_cpp_library():
    d = epochwatt.default_options()
    assert set(d) == set(epochwatt._epochwatt.option_names())
    assert (d["epochs_before_pred"], d["monitor_epochs"], d["update_interval"], d["decimal_precision"], d["pue"]) == (1, -1, 1.0, 12, 1.58)
