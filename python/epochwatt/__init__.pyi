"""epochwatt: measure and predict the energy and carbon footprint of training deep-learning models.

Units: seconds, joules, kWh and gCO2e (grams of CO2-equivalent), named in every field. Energy in
kWh includes the PUE (facility energy); joules are IT energy, without it.
"""
import os
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Literal, NamedTuple, TypeVar

from typing_extensions import ParamSpec, Self

# The same objects as the native module's (re-exported, not copies): see _epochwatt.pyi.
from ._epochwatt import Error as Error
from ._epochwatt import ManualClock as ManualClock
from ._epochwatt import Meter as Meter
from ._epochwatt import OptionsError as OptionsError
from ._epochwatt import UsageError as UsageError
from ._epochwatt import constant_power_meter as constant_power_meter

__version__: str

__all__ = [
    "Tracker", "track", "Window", "Error", "OptionsError", "UsageError", "Consumption", "EpochSummary",
    "DeviceEnergy", "MeterInfo", "WindowMeasurement", "ManualClock", "Meter", "constant_power_meter",
    "default_options",
]

_P = ParamSpec("_P")
_R = TypeVar("_R")

# ---------------------------------------------------------------- plain result types

class Consumption(NamedTuple):
    """A prediction or a measured total. energy_kwh includes the PUE; co2_g = energy_kwh x
    intensity_g_per_kwh; km_by_car = co2_g / 106.8 g/km (EEA 2024, average new car). Mid-run
    totals carry the intensity that holds so far."""

    epochs: int
    """Epochs predicted for, or epochs that ended."""
    duration_s: float
    """Seconds."""
    energy_kwh: float
    """kWh, facility energy (IT energy x PUE)."""
    co2_g: float
    """gCO2e."""
    intensity_g_per_kwh: float
    """gCO2e per kWh."""
    intensity_source: str
    """Where the intensity came from, e.g. 'embedded-table', 'world-average', 'fixed'."""
    intensity_forecast: bool
    """True when the intensity is a forecast."""
    km_by_car: float
    """co2_g / 106.8 g/km."""

class DeviceEnergy(NamedTuple):
    """IT energy of one device in one epoch or window, in joules (no PUE)."""

    meter_id: str
    device_name: str
    component: str
    """'gpu', 'cpu' or 'dram'."""
    method: str
    """'counter', 'integrated-power', 'estimate', 'simulated' or 'replay'."""
    joules: float
    """Joules, without PUE."""
    complete: bool
    """False when the meter failed or vanished inside the interval."""

class EpochSummary(NamedTuple):
    """One epoch."""

    index: int
    """1-based."""
    duration_s: float
    """Seconds."""
    joules: float
    """IT energy in joules: sum over devices, no PUE."""
    devices: tuple[DeviceEnergy, ...]
    interrupted: bool
    """Still open at stop(), and not counted in the totals."""

class MeterInfo(NamedTuple):
    """A meter in use."""

    id: str
    component: str
    """'gpu', 'cpu' or 'dram'."""
    device_name: str
    method: str
    """'counter', 'integrated-power', 'estimate', 'simulated' or 'replay'."""
    poll_period_s: float
    """Seconds between reads; 0: the tracker's update_interval."""
    detail: str
    """How the figures are obtained, for people."""

class WindowMeasurement(NamedTuple):
    """What track() / Tracker.window() measured."""

    name: str | None
    """The window's name; None when unnamed."""
    duration_s: float
    """Seconds."""
    joules: float
    """IT energy in joules: sum over devices, no PUE."""
    joules_by_component: dict[str, float]
    """{'gpu': J, 'cpu': J, 'dram': J} for the components present."""
    devices: tuple[DeviceEnergy, ...]
    energy_kwh: float
    """kWh, facility energy: joules x PUE / 3.6e6."""
    co2_g: float
    """gCO2e, each intensity value weighted by the energy drawn while it held."""
    intensity_g_per_kwh: float
    """co2_g / energy_kwh (the current value when no energy was drawn)."""
    cut_by_stop: bool
    """The tracker stopped before the window ended: measured until stop()."""

def default_options() -> dict[str, object]:
    """The C++ library's option defaults, as a dict by option name (the source of Tracker's defaults)."""

# ---------------------------------------------------------------- Tracker

class _EpochScope:
    """What Tracker.epoch() returns: epoch_start() on entry, epoch_end() on exit (also on an
    exception, which is never suppressed)."""

    def __init__(self, tracker: Tracker) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None, /
    ) -> Literal[False]: ...

class Tracker:
    """One tracked training run: the C++ ``epochwatt::Tracker``.

    Thread-safety: epoch_start/epoch_end/stop belong to the training loop's thread; the accessors
    may be called from any thread.
    """

    def __init__(
        self,
        epochs: int,
        *,
        # Python's own
        sync_cuda: bool | Callable[[], object] | None = None,
        console: bool | Literal["fd", "python"] = True,
        job_wait_s: float = 30.0,
        comm: Any | None = None,
        run_name: str | None = None,
        # carbontracker's options
        epochs_before_pred: int = 1,
        monitor_epochs: int = -1,
        update_interval: float = 1.0,
        interpretable: bool = True,
        stop_and_confirm: bool = False,
        ignore_errors: bool = False,
        components: str = "all",
        devices_by_pid: bool = False,
        log_dir: str | os.PathLike[str] | None = None,
        log_file_prefix: str = "",
        verbose: int = 1,
        decimal_precision: int = 12,
        sim_cpu: str | None = None,
        sim_cpu_tdp: float | None = None,
        sim_cpu_util: float = 0.5,
        sim_gpu: str | None = None,
        sim_gpu_watts: float | None = None,
        sim_gpu_util: float = 0.5,
        # epochwatt's extensions
        pue: float = 1.58,
        prediction_skips_first_epoch: bool = False,
        intensity_g_per_kwh: float | None = None,
        country: str = "",
        zone: str = "",
        postcode: str = "",
        latitude: float | None = None,
        longitude: float | None = None,
        cloud: str = "",
        offline: bool = False,
        geolocate: bool = True,
        live_providers: Sequence[str] = (),
        api_keys: dict[str, str] | None = {},
        provider_urls: dict[str, str] = {},
        config_file: str | os.PathLike[str] = "",
        cache_dir: str | os.PathLike[str] = "",
        intensity_refresh_s: float = 900.0,
        replay_trace: str | os.PathLike[str] | None = None,
        replay_component: str = "gpu",
        replay_use_power: bool = False,
        replay_offset_s: float = 0.0,
        powercap_root: str | os.PathLike[str] = "/sys/class/powercap",
        drm_root: str | os.PathLike[str] = "/sys/class/drm",
        proc_root: str | os.PathLike[str] = "/proc",
        rapl_domains: Sequence[str] = ("package", "dram"),
        estimate_process_tree: bool = False,
        nvml_library: str | os.PathLike[str] = "",
        write_json_summary: bool = True,
        json_path: str | os.PathLike[str] | None = None,
        outputs: Sequence[str | tuple[str, str | os.PathLike[str]]] = (),
        metrics_listen: str = "",
        clock: ManualClock | None = None,
        meters: Sequence[Meter] = (),
        discover_meters: bool = True,
        tool_name: str = "epochwatt",
        independent: bool = False,
        rank: int | None = None,
        local_rank: int | None = None,
        world_size: int | None = None,
        local_world_size: int | None = None,
        job_id: str = "",
        step_id: str = "",
        node: str = "",
        runtime_dir: str | os.PathLike[str] = "",
        job_reduction: bool = False,
    ) -> None:
        """Start tracking a run of `epochs` epochs (> 0). The keywords are the C++ Options with
        their C++ names and defaults (docs/options.md, default_options()), plus:

        - sync_cuda: None (on when torch is already imported and CUDA is available), True, False
          or a callable run before every boundary (default torch.cuda.synchronize).
        - console: True: file descriptor 1 when sys.stdout is the process's own stdout, else
          collected and written through sys.stdout at the tracker's next call (notebooks);
          "fd" / "python" choose; False: none.
        - job_wait_s: in a multi-process job (torch.distributed initialised, or comm= given),
          how long rank 0 waits for the other ranks' records, s (default 30; at the prediction's
          epoch and at the end), before it prints the whole job's blocks without them and names
          them (docs/cluster.md). Rank 0 prints the job's Predicted and Actual blocks; the other
          ranks print nothing on the console. independent=True or job_reduction=False turns the
          reduction off; otherwise job_reduction is set by it. In a multi-rank job either every
          rank builds a tracker, or those that do pass one of these.
        - comm: an mpi4py intracommunicator (e.g. MPI.COMM_WORLD) to reduce over; None (default):
          no MPI call at all, even under mpirun. Building with comm is collective (comm.Dup()):
          every rank of it must build its tracker, in the same order, or the constructor waits
          forever. TypeError for anything else.
        - run_name: pairs this tracker with the other ranks' under torch.distributed (default
          "epochs=N" from epochs): rank 0's n-th tracker of a name pairs with every rank's n-th
          of that name; give a run its own name when some rank builds an extra tracker of the
          same epochs. Unpaired ranks get one warning line once rank 0 has waited job_wait_s.

        Units: update_interval, intensity_refresh_s and replay_offset_s in seconds; sim_cpu_tdp
        and sim_gpu_watts in W; sim_*_util a fraction 0-1; pue >= 1; intensity_g_per_kwh in
        gCO2e/kWh; latitude/longitude in degrees. outputs: 'FORMAT:PATH' strings or (format, path)
        pairs, format 'csv', 'jsonl' or 'prometheus'. api_keys None means {}; replay_component
        'gpu', 'cpu' or 'dram'.
        metrics_listen: 'ADDR:PORT' (':PORT' is 127.0.0.1:PORT) serves the live metrics at
        http://ADDR:PORT/metrics in Prometheus' text format from the tracker's start until stop()
        (docs/cluster.md); a port in use gives one warning and the run goes on.

        Multi-process jobs (docs/cluster.md): rank, local_rank, world_size, local_world_size,
        job_id, step_id and node win over the launcher's environment (torchrun, OpenMPI, SLURM);
        runtime_dir is the node election's folder; independent=True turns job awareness off.

        Raises OptionsError (a ValueError) for invalid options, TypeError for unknown ones or
        values of the wrong type, and Error when no component can be measured (unless
        ignore_errors).
        """
    def epoch_start(self) -> None:
        """Start an epoch: stamps the time and wakes the sampler (no meter read, no I/O).

        Raises UsageError when an epoch is already open (unless ignore_errors)."""
    def epoch_end(self) -> bool:
        """End the epoch. Returns False when training should stop (the user answered "n" to
        stop_and_confirm), else True. Raises UsageError without a matching epoch_start()
        (unless ignore_errors)."""
    def epoch(self) -> _EpochScope:
        """``with tracker.epoch(): ...``: epoch_start() on entry, epoch_end() on exit (also on an
        exception). epoch_end()'s answer is dropped: use finished() to see a user's "n"."""
    def stop(self) -> None:
        """End monitoring: counts the epochs that ended, writes the actual report. Idempotent;
        waits (GIL released) for the sampler to finish."""
    def flush(self) -> None:
        """Wait (GIL released) until every boundary so far has been measured and reported."""
    def prediction(self) -> Consumption | None:
        """The Consumption predicted for all epochs, once epochs_before_pred epochs ended; else None."""
    def totals(self) -> Consumption:
        """Consumption measured over the epochs that ended so far (the actual one after the report)."""
    def epochs(self) -> list[EpochSummary]:
        """The epochs measured so far, in order (an interrupted one last, if any)."""
    def meters(self) -> list[MeterInfo]:
        """The meters in use."""
    def finished(self) -> bool:
        """True once the run has shut down (monitor_epochs reached, stop(), or the user quit)."""
    @property
    def standard_log_path(self) -> str:
        """Path of the carbontracker-format standard log ('' without log_dir)."""
    @property
    def output_log_path(self) -> str:
        """Path of the carbontracker-format output log ('' without log_dir)."""
    @property
    def error_log_path(self) -> str:
        """Path of the error log ('' without log_dir)."""
    @property
    def json_summary_path(self) -> str:
        """Path of the JSON summary ('' when none is written)."""
    def window(self, name: str | None = None) -> Window:
        """A measurement window on this tracker's meters: see track()."""

# ---------------------------------------------------------------- track()

class Window:
    """A named measurement window: ``with track("eval") as w: ...`` or ``@track("infer")``.

    As a context manager, ``w.result`` holds the WindowMeasurement once the block has ended. As a
    decorator, every call is measured; ``results`` holds them in order (``result`` the last).
    Windows may be open at once and nest. The WindowMeasurement fields are readable on the window
    itself (the last result's); before the first window ended they raise AttributeError.

    Entering or calling raises UsageError on a stopped tracker; the first use without a tracker
    builds the shared one (OptionsError/TypeError for bad options, Error when nothing can be
    measured).
    """

    name: str | None
    results: list[WindowMeasurement]
    """Every measurement of this window, in order."""

    def __init__(
        self, name: str | None = None, tracker: Tracker | None = None, options: dict[str, object] | None = None
    ) -> None: ...
    @property
    def result(self) -> WindowMeasurement | None:
        """The last WindowMeasurement, or None before the first window ended."""
    def __enter__(self) -> Self: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None, /
    ) -> Literal[False]: ...
    def __call__(self, func: Callable[_P, _R]) -> Callable[_P, _R]:
        """Decorate `func`: every call is measured as one window (the wrapper also carries
        ``.window``, this object)."""

    # The last result's figures (WindowMeasurement's fields; `name` is the attribute above).
    @property
    def duration_s(self) -> float:
        """Seconds."""
    @property
    def joules(self) -> float:
        """IT energy in joules, no PUE."""
    @property
    def joules_by_component(self) -> dict[str, float]: ...
    @property
    def devices(self) -> tuple[DeviceEnergy, ...]: ...
    @property
    def energy_kwh(self) -> float:
        """kWh with PUE."""
    @property
    def co2_g(self) -> float:
        """gCO2e."""
    @property
    def intensity_g_per_kwh(self) -> float: ...
    @property
    def cut_by_stop(self) -> bool: ...

def track(name: str | None = None, *, tracker: Tracker | None = None, **options: object) -> Window:
    """Measure code without epochs, as a context manager or a decorator.

    name: an optional task name, kept in the result. tracker: measure with this Tracker's meters;
    otherwise a process-wide tracker is made on first use with `options` (any Tracker keyword,
    e.g. ``sim_gpu="A100", sim_gpu_watts=400, sim_gpu_util=1.0``), shared by every window with
    the same options. The result (WindowMeasurement: duration_s, joules, joules_by_component,
    energy_kwh with PUE, co2_g in gCO2e) is known when the block or call ends.

    Raises TypeError when both tracker and options are given; OptionsError/TypeError for bad
    options (at first use), UsageError on a stopped tracker.
    """
