from typing import Callable, Literal
"""Native core of the epochwatt package (src/python/module.cpp); use the epochwatt package, not this module.

Results come back as plain tuples; the package wraps them in named tuples. Units: seconds, joules
(IT energy, without PUE), kWh (facility energy, with PUE) and gCO2e.
"""
from typing_extensions import TypeAlias

__version__: str

# ---------------------------------------------------------------- result tuples

# (meter_id, device_name, component, method, joules, complete); component: 'gpu', 'cpu' or 'dram';
# method: 'counter', 'integrated-power', 'estimate', 'simulated' or 'replay'; joules without PUE.
_DeviceTuple: TypeAlias = tuple[str, str, str, str, float, bool]

# (epochs, duration_s, energy_kwh [with PUE], co2_g, intensity_g_per_kwh, intensity_source,
#  intensity_forecast, km_by_car)
_ConsumptionTuple: TypeAlias = tuple[int, float, float, float, float, str, bool, float]

# (index [1-based], duration_s, joules [sum over devices, no PUE], devices, interrupted)
_EpochTuple: TypeAlias = tuple[int, float, float, tuple[_DeviceTuple, ...], bool]

# (id, component, device_name, method, poll_period_s [0: update_interval], detail)
_MeterTuple: TypeAlias = tuple[str, str, str, str, float, str]

# (name ['' when unnamed], duration_s, joules [no PUE], devices, energy_kwh [with PUE], co2_g,
#  intensity_g_per_kwh, cut_by_stop)
_WindowTuple: TypeAlias = tuple[str, float, float, tuple[_DeviceTuple, ...], float, float, float, bool]

# ---------------------------------------------------------------- exceptions

class Error(RuntimeError):
    """Base of every epochwatt error."""

class OptionsError(Error, ValueError):
    """An invalid or inconsistent option; the message is the C++ library's (carbontracker's words
    where it has them)."""

class UsageError(Error):
    """An API call out of order, e.g. epoch_end() without epoch_start()."""

# ---------------------------------------------------------------- clock and meters

class ManualClock:
    """A clock that moves only when told to (tests, replays). Seconds; wall_origin_s is the Unix
    time (seconds) at clock time 0 (default 2025-01-01T00:00:00Z)."""

    def __init__(self, start_s: float = 0.0, wall_origin_s: float = 1735689600.0) -> None: ...
    def now(self) -> float:
        """The clock's time, in seconds."""
    def set(self, t_s: float) -> None:
        """Set the time to t_s seconds."""
    def advance(self, dt_s: float) -> None:
        """Move the time forward by dt_s seconds (atomically; safe against the sampler)."""

class Meter:
    """An energy source (opaque); pass it in Tracker(meters=[...]). Made by constant_power_meter();
    it has no constructor of its own (Meter() raises TypeError)."""

    @property
    def id(self) -> str:
        """Unique within a run, e.g. 'sim:cpu'."""
    @property
    def device_name(self) -> str:
        """The device as carbontracker lists it, e.g. 'cpu:0'."""
    @property
    def component(self) -> str:
        """'gpu', 'cpu' or 'dram'."""
    @property
    def method(self) -> str:
        """'counter', 'integrated-power', 'estimate', 'simulated' or 'replay'."""

def constant_power_meter(
    id: str, component: str, device_name: str, watts: float, method: str = "simulated"
) -> Meter:
    """A meter that draws a constant `watts` W. component: 'gpu', 'cpu' or 'dram'; method:
    'counter', 'integrated-power', 'estimate', 'simulated' or 'replay'.

    Raises OptionsError for a negative or NaN watts, or an unknown component or method."""

# ---------------------------------------------------------------- options

def default_options() -> dict[str, object]:
    """The C++ Options defaults, by option name."""

def option_names() -> list[str]:
    """The option keywords Tracker() accepts, sorted."""

# ---------------------------------------------------------------- the tracker

class Tracker:
    """The C++ epochwatt::Tracker. options: option name -> value (a dict; the keywords of
    epochwatt.Tracker without sync_cuda/console); console_fd: file descriptor of the console
    (-1: no console output; -2: collected for take_console(), and stop_and_confirm asks through
    input() after calling show_console()).

    Raises TypeError for an unknown option or a value of the wrong type, OptionsError for an
    invalid one, Error when no component can be measured (unless ignore_errors)."""

    def __init__(self, options: dict[str, object], console_fd: int = 1,
                 show_console: Callable[[], object] | None = None) -> None: ...
    def take_console(self) -> str | None: ...
    def epoch_start(self) -> None:
        """Raises UsageError when an epoch is already open (unless ignore_errors)."""
    def epoch_end(self) -> bool:
        """False when training should stop (stop_and_confirm answered 'n'). Raises UsageError
        without a matching epoch_start() (unless ignore_errors)."""
    def stop(self) -> None:
        """Idempotent; releases the GIL while the sampler finishes."""
    def flush(self) -> None:
        """Wait (GIL released) until every boundary so far has been measured and reported."""
    def window_start(self, name: str = "") -> int:
        """Open a measurement window; returns its id. Raises UsageError after stop()."""
    def window_end(self, id: int) -> _WindowTuple:
        """Close window `arg0` (GIL released while waiting). Raises UsageError for an id not open."""
    def prediction(self) -> _ConsumptionTuple | None:
        """The prediction for all epochs, once epochs_before_pred epochs ended; else None."""
    def totals(self) -> _ConsumptionTuple:
        """Measured over the epochs that ended so far."""
    def epochs(self) -> list[_EpochTuple]: ...
    def meters(self) -> list[_MeterTuple]: ...
    def finished(self) -> bool: ...
    def standard_log_path(self) -> str:
        """'' without log_dir (as the other *_path methods)."""
    def output_log_path(self) -> str: ...
    def error_log_path(self) -> str: ...
    def json_summary_path(self) -> str: ...
    def rank_epoch(self, final: bool = False) -> bytes:
        """This rank's RankEpoch record (RANK_EPOCH_BYTES bytes, epochwatt/job_report.hpp) for rank 0:
        what the sampler has resolved so far (flush() first for the newest epoch); final marks the
        rank's last record."""
    def report_job(
        self, job: JobReport, stage: Literal["predicted", "actual"]
    ) -> tuple[_ConsumptionTuple, int, int, int, list[int], list[tuple[int, int]]]:
        """Rank 0: prints the whole job's Predicted or Actual block; returns (consumption, ranks
        counted, nodes, world size, missing ranks, [(rank, epochs) of ranks that stopped early])."""

# Bytes of one RankEpoch record.
RANK_EPOCH_BYTES: int

class JobReport:
    """Rank 0's sum of a job's RankEpoch records (epochwatt/job_report.hpp). Not thread-safe."""

    def __init__(self, world_size: int) -> None: ...
    def add(self, record: bytes) -> bool:
        """Adds a record; False for one of the wrong size, an unknown rank, or older than the rank's newest."""
    def complete_through(self, epoch: int) -> bool:
        """Every rank reported `epoch` (or finished before it)."""
    def all_finished(self) -> bool: ...
    def missing(self, final_only: bool) -> list[int]:
        """Ranks never heard from, or (final_only) without their final record."""
    def ranks_reported(self) -> int: ...
    def nodes(self) -> int: ...
    def world_size(self) -> int: ...
