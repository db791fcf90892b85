"""epochwatt: measure and predict the energy and carbon footprint of training deep-learning models.

A Python package around epochwatt's C++ library (the ``_epochwatt`` extension). Three ways in:

- :class:`Tracker`, the C++ ``epochwatt::Tracker`` with its options as keyword arguments::

      tracker = epochwatt.Tracker(epochs=10, log_dir="logs")
      for epoch in range(10):
          with tracker.epoch():
              train_one_epoch()
      tracker.stop()

- :class:`epochwatt.carbontracker.CarbonTracker`, a drop-in for carbontracker 2.4's class: change
  ``from carbontracker.tracker import CarbonTracker`` to
  ``from epochwatt.carbontracker import CarbonTracker``.
- :func:`track`, for code without epochs (inference, evaluation, a whole script), as a context
  manager or a decorator.

Units: seconds, joules, kWh and gCO2e (grams of CO2-equivalent), named in every field. Energy in
kWh includes the PUE (facility energy); joules are IT energy, without it. See docs/python.md.
"""
from __future__ import annotations

import atexit as _atexit
import os as _os
import sys as _sys
import threading as _threading
import weakref as _weakref
from collections import namedtuple as _namedtuple

from . import _epochwatt
from . import _job
from ._epochwatt import Error, OptionsError, UsageError, ManualClock, Meter, constant_power_meter

__version__ = _epochwatt.__version__

__all__ = [
    "Tracker", "track", "Window", "Error", "OptionsError", "UsageError", "Consumption", "EpochSummary",
    "DeviceEnergy", "MeterInfo", "Setup", "WindowMeasurement", "ManualClock", "Meter", "constant_power_meter",
    "default_options",
]

# ---------------------------------------------------------------- plain result types

Consumption = _namedtuple("Consumption", [
    "epochs", "duration_s", "energy_kwh", "co2_g", "intensity_g_per_kwh", "intensity_source",
    "intensity_forecast", "km_by_car"])
Consumption.__doc__ = (
    "A prediction or a measured total. energy_kwh includes the PUE; co2_g = energy_kwh x "
    "intensity_g_per_kwh; km_by_car = co2_g / 106.8 g/km (EEA 2024, average new car). Mid-run totals "
    "carry the intensity that holds so far.")

DeviceEnergy = _namedtuple("DeviceEnergy", ["meter_id", "device_name", "component", "method", "joules", "complete"])
DeviceEnergy.__doc__ = (
    "IT energy of one device in one epoch or window, in joules (no PUE). component: 'gpu', 'cpu' or "
    "'dram'; method: 'counter', 'integrated-power', 'estimate', 'simulated' or 'replay'; complete is "
    "False when the meter failed or vanished inside the interval.")

EpochSummary = _namedtuple("EpochSummary", ["index", "duration_s", "joules", "devices", "interrupted"])
EpochSummary.__doc__ = (
    "One epoch: 1-based index, duration in seconds, IT energy in joules (sum over devices, no PUE), "
    "devices as a tuple of DeviceEnergy; interrupted: still open at stop() and not counted.")

Setup = _namedtuple("Setup", ["duration_s", "joules", "devices"])
Setup.__doc__ = (
    "The set-up before epoch 1 (from the tracker's construction to the first epoch_start): duration in "
    "seconds, IT energy in joules (no PUE), devices as a tuple of DeviceEnergy. Included in totals(); "
    "never multiplied by a prediction.")

MeterInfo = _namedtuple("MeterInfo", ["id", "component", "device_name", "method", "poll_period_s", "detail"])
MeterInfo.__doc__ = "A meter in use: id, component, device name, method, poll period in seconds (0: update_interval), how."

WindowMeasurement = _namedtuple("WindowMeasurement", [
    "name", "duration_s", "joules", "joules_by_component", "devices", "energy_kwh", "co2_g",
    "intensity_g_per_kwh", "cut_by_stop"])
WindowMeasurement.__doc__ = (
    "What track() measured: duration in seconds; joules: IT energy (sum over devices, no PUE); "
    "joules_by_component: {'gpu': J, 'cpu': J, 'dram': J} for the components present; devices: tuple "
    "of DeviceEnergy; energy_kwh: joules x PUE / 3.6e6; co2_g: gCO2e, each intensity value weighted "
    "by the energy drawn while it held; cut_by_stop: the tracker stopped before the window ended.")


def _consumption(t):
    return None if t is None else Consumption(*t)


def _devices(ds):
    return tuple(DeviceEnergy(*d) for d in ds)


def default_options():
    """The C++ library's option defaults, as a dict by option name (the source of Tracker's defaults)."""
    return _epochwatt.default_options()


# ---------------------------------------------------------------- processes

# Trackers of this process, stopped at interpreter exit (each reports once). A forked child
# (DataLoader worker, multiprocessing with fork, os.fork) starts with none: it must not report the
# parent's run, and the C++ tracker does nothing there anyway.
_live = _weakref.WeakSet()
_owner_pid = _os.getpid()


def _forget_in_child():
    global _owner_pid, _shared_sessions
    _live.clear()
    _owner_pid = _os.getpid()
    _shared_sessions = {}


if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=_forget_in_child)


@_atexit.register
def _stop_all_at_exit():
    if _os.getpid() != _owner_pid:
        return
    for t in list(_live):
        try:
            t.stop()
        except Exception:  # a report that cannot be written must not turn the exit into a traceback
            pass


# ---------------------------------------------------------------- CUDA synchronisation

def _cuda_sync_function(sync_cuda):
    """The callable to run before each boundary, or None.

    sync_cuda None (default): torch.cuda.synchronize when torch is already imported and CUDA is
    available (never imports torch itself); True: torch.cuda.synchronize, looked up at each call;
    False: none; a callable: that callable.
    """
    if callable(sync_cuda):
        return sync_cuda
    if sync_cuda is None:
        torch = _sys.modules.get("torch")
        try:
            sync_cuda = bool(torch is not None and torch.cuda.is_available())
        except Exception:
            sync_cuda = False
    if not sync_cuda:
        return None

    def synchronize():
        _sys.modules["torch"].cuda.synchronize()
    return synchronize


# ---------------------------------------------------------------- Tracker

class Tracker:
    """One tracked training run: the C++ ``epochwatt::Tracker``.

    Keyword arguments are the C++ Options with their C++ names and defaults (docs/options.md,
    :func:`default_options`); ``epochs`` is required. Python adds:

    - ``sync_cuda``: None (default: on when torch is imported and CUDA is available), True, False
      or a callable. When on, every boundary first runs ``torch.cuda.synchronize()``, so that the
      energy of kernels still queued is credited to the epoch that launched them.
    - ``console``: where carbontracker's console lines go. True (default): straight to file
      descriptor 1 when ``sys.stdout`` is the process's own stdout, else (a notebook,
      ``contextlib.redirect_stdout``, a test's capture) through ``sys.stdout``, collected from the
      sampler and written at the tracker's next call. "fd" or "python" choose; False writes none
      (log files are still written).
    - ``job_wait_s``: in a multi-process job (torch.distributed initialised, or ``comm=`` given),
      how long rank 0 waits for the other ranks' records before it reports the job without them
      (default 30 s; at the prediction's epoch and at the end). Rank 0 prints the whole job's
      Predicted and Actual blocks; the other ranks print nothing on the console
      (docs/cluster.md). ``independent=True`` or ``job_reduction=False`` turns it off. In a
      multi-rank job either every rank builds a tracker, or those that do pass one of these.
    - ``comm``: an mpi4py intracommunicator (e.g. ``MPI.COMM_WORLD``) to reduce over; default None:
      no MPI call at all, even under mpirun. Building with ``comm`` is collective
      (``comm.Dup()``): every rank of it must build its tracker, in the same order, or the
      constructor waits forever. TypeError for anything else.
    - ``run_name``: str pairing this tracker with the other ranks' under torch.distributed
      (default ``"epochs=N"`` from ``epochs``): rank 0's n-th tracker of a name pairs with every
      rank's n-th of that name, so give a run its own name when some rank builds an extra tracker
      of the same epochs. Unpaired ranks get one warning line once rank 0 has waited
      ``job_wait_s``, and are not waited for again.

    Raises OptionsError (a ValueError) for invalid options, TypeError for unknown ones, and Error
    when no component can be measured (unless ignore_errors).

    Thread-safety: epoch_start/epoch_end/stop belong to the training loop's thread; the accessors
    may be called from any thread. Calls that can wait release the GIL; the sampler thread never
    takes it.
    """

    __slots__ = ("_t", "_sync", "_collect", "_job", "__weakref__")

    def __init__(self, epochs, *, sync_cuda=None, console=True, job_wait_s=_job.WAIT_S, comm=None, run_name=None,
                 **options):
        options["epochs"] = epochs
        self._job = None
        transport = _job.transport_for(options, comm, run_name)
        self._sync = _cuda_sync_function(sync_cuda)
        mode = _console_mode(console)
        self._collect = mode == _COLLECTED
        _flush_stdout()  # the user's earlier prints before the tracker's first lines
        me = _weakref.ref(self)  # no reference cycle through the native object

        def show_console():
            t = me()
            if t is not None:
                t._show_console()
        self._t = _epochwatt.Tracker(options, mode, show_console if self._collect else None)
        if transport is not None:
            before = options.get("epochs_before_pred", 1)
            self._job = _job.JobReduction(self._t, transport, epochs if before == -1 else before, job_wait_s)
        _live.add(self)
        if self._collect:
            self._show_console()

    def _show_console(self):
        """Writes what the sampler wrote to a collected console since the last call."""
        text = self._t.take_console()
        out = _sys.stdout
        if text and out is not None:
            out.write(text)
            out.flush()

    def __del__(self):
        # A collected console cannot print after this object is gone: stop (the report) now.
        if getattr(self, "_collect", False) and getattr(self, "_t", None) is not None:
            self._t.stop()
            self._show_console()

    def epoch_start(self):
        """Start an epoch: stamps the time and wakes the sampler (no meter read, no I/O here).

        Raises UsageError when an epoch is already open (unless ignore_errors)."""
        if self._sync is not None:
            self._sync()
        self._t.epoch_start()
        if self._collect:
            self._show_console()

    def epoch_end(self):
        """End the epoch. Returns False when training should stop (the user answered "n" to
        stop_and_confirm), else True. Raises UsageError without a matching epoch_start()."""
        if self._sync is not None:
            self._sync()
        _flush_stdout()
        go_on = self._t.epoch_end()
        if self._job is not None:
            self._job.epoch_ended()
        if self._collect:
            self._show_console()
        return go_on

    def epoch(self):
        """``with tracker.epoch(): ...``: epoch_start() on entry, epoch_end() on exit (also on an exception)."""
        return _EpochScope(self)

    def stop(self):
        """End monitoring: counts the epochs that ended, writes the actual report. Idempotent; waits
        (GIL released) for the sampler to finish."""
        _flush_stdout()
        if self._job is not None:
            self._job.finish()
        else:
            self._t.stop()
        if self._collect:
            self._show_console()

    def flush(self):
        """Wait (GIL released) until every boundary so far has been measured and reported."""
        self._t.flush()
        if self._collect:
            self._show_console()

    def prediction(self):
        """The newest Consumption predicted for all epochs, remade after every epoch; None before the
        first epoch ends or with epochs_before_pred=0."""
        return _consumption(self._t.prediction())

    def prediction_detail(self):
        """How the newest prediction was made, as a dict: rule ('steady-epochs' or 'carbontracker'),
        after_epochs, steady_epochs, warmup_epochs and outlier_epochs (lists of 1-based epochs left out
        of the mean), period / period_first / periodic_remaining (periodic extra work, 0: none),
        trend_s_per_epoch / trend_joules_per_epoch (the steady epochs' significant slope, 0: none),
        first_epoch_includes_setup, setup_s, setup_joules, level (0.9), range_known, and the ranges
        duration_s (s), energy_kwh (kWh, with PUE), co2_g (g) as (low, high). None before epoch 1 ends."""
        return self._t.prediction_detail()

    def setup(self):
        """The Setup before epoch 1 (None until the first epoch_start, or stop(), ends it)."""
        s = self._t.setup()
        return None if s is None else Setup(s[0], s[1], _devices(s[2]))

    def totals(self):
        """Consumption measured over the epochs that ended so far (the actual one after the report)."""
        return _consumption(self._t.totals())

    def epochs(self):
        """list[EpochSummary] of the epochs measured so far (an interrupted one last, if any)."""
        return [EpochSummary(i, d, j, _devices(ds), x) for (i, d, j, ds, x) in self._t.epochs()]

    def meters(self):
        """list[MeterInfo] of the meters in use."""
        return [MeterInfo(*m) for m in self._t.meters()]

    def finished(self):
        """True once the run has shut down (monitor_epochs reached, stop(), or the user quit)."""
        return self._t.finished()

    @property
    def standard_log_path(self):
        """Path of the carbontracker-format standard log ('' without log_dir)."""
        return self._t.standard_log_path()

    @property
    def output_log_path(self):
        return self._t.output_log_path()

    @property
    def error_log_path(self):
        return self._t.error_log_path()

    @property
    def json_summary_path(self):
        return self._t.json_summary_path()

    def window(self, name=None):
        """A measurement window on this tracker's meters: see :func:`track`."""
        return Window(name, tracker=self)

    def _window_start(self, name):
        return self._t.window_start(name or "")

    def _window_end(self, wid):
        n, d, j, ds, kwh, g, ci, cut = self._t.window_end(wid)
        if self._collect:
            self._show_console()
        devices = _devices(ds)
        by_component = {}
        for dev in devices:
            by_component[dev.component] = by_component.get(dev.component, 0.0) + dev.joules
        return WindowMeasurement(n or None, d, j, by_component, devices, kwh, g, ci, cut)


_FD_CONSOLE, _NO_CONSOLE, _COLLECTED = 1, -1, -2


def _console_mode(console):
    if console is None or console is False:
        return _NO_CONSOLE
    if console == "fd":
        return _FD_CONSOLE
    if console == "python":
        return _COLLECTED
    if console is not True:
        raise ValueError(f"console must be True, False, 'fd' or 'python', not {console!r}")
    out = _sys.stdout
    try:
        own = out is not None and out is _sys.__stdout__ and out.fileno() == 1
    except Exception:  # io.UnsupportedOperation: no descriptor behind it
        own = False
    return _FD_CONSOLE if own else _COLLECTED


def _flush_stdout():
    # The sampler writes the console to fd 1 directly; what Python still buffers must go first,
    # so that a user's "epoch 3: accuracy 0.97" comes before the block it precedes.
    out = _sys.stdout
    if out is not None:
        try:
            out.flush()
        except Exception:
            pass


class _EpochScope:
    __slots__ = ("_tracker",)

    def __init__(self, tracker):
        self._tracker = tracker

    def __enter__(self):
        self._tracker.epoch_start()
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            self._tracker.epoch_end()
        except UsageError:
            if exc_type is None:
                raise  # otherwise the user's own exception is the one to see
        return False


# ---------------------------------------------------------------- track()

_shared_lock = _threading.Lock()
_shared_sessions = {}


def _session_key(options):
    return tuple(sorted((k, repr(v)) for k, v in options.items()))


def _shared_session(options):
    """The process-wide tracker that measures track() windows with these options; one per distinct
    set of options, so windows with the same options share one set of meters and one sampler."""
    key = _session_key(options)
    with _shared_lock:
        session = _shared_sessions.get(key)
        if session is None:
            opts = dict(options)
            epochs = opts.pop("epochs", 1)
            opts.setdefault("epochs_before_pred", 0)
            opts.setdefault("write_json_summary", False)
            session = Tracker(epochs, console=opts.pop("console", False), sync_cuda=opts.pop("sync_cuda", None), **opts)
            _shared_sessions[key] = session
        return session


class Window:
    """A named measurement window: ``with track("eval") as w: ...`` or ``@track("infer")``.

    As a context manager, ``w.result`` holds the WindowMeasurement once the block has ended. As a
    decorator, every call is measured; ``results`` holds them in order (``result`` the last). Windows
    may be open at once and nest; all windows of a tracker, or of one set of options, are measured by
    the same meters and sampler.
    """

    def __init__(self, name=None, tracker=None, options=None):
        self.name = name
        self._tracker = tracker
        self._options = options or {}
        self._local = _threading.local()  # per thread: ids of the with-blocks open (nesting)
        self.results = []

    @property
    def result(self):
        """The last WindowMeasurement, or None before the first window ended."""
        return self.results[-1] if self.results else None

    def _session(self):
        if self._tracker is None:
            self._tracker = _shared_session(self._options)
        return self._tracker

    def _synced_session(self):
        session = self._session()
        if session._sync is not None:  # a boundary: queued GPU work first (sync_cuda)
            session._sync()
        return session

    def _begin(self):
        return self._synced_session()._window_start(self.name)

    def _finish(self, wid):
        m = self._synced_session()._window_end(wid)
        self.results.append(m)
        return m

    def _open(self):
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def __enter__(self):
        self._open().append(self._begin())
        return self

    def __exit__(self, *exc):
        self._finish(self._open().pop())
        return False

    def __call__(self, func):
        import functools

        @functools.wraps(func)
        def measured(*args, **kwargs):
            wid = self._begin()
            try:
                return func(*args, **kwargs)
            finally:
                self._finish(wid)
        measured.window = self
        return measured

    # the figures of the last window, for `with track() as w: ...; w.energy_kwh`
    def __getattr__(self, field):
        if field in WindowMeasurement._fields:
            r = self.result
            if r is None:
                raise AttributeError(f"no window measured yet: '{field}' is known once the block has ended")
            return getattr(r, field)
        raise AttributeError(field)


def track(name=None, *, tracker=None, **options):
    """Measure code without epochs, as a context manager or a decorator.

    ``name``: an optional task name, kept in the result. ``tracker``: measure with this Tracker's
    meters; otherwise a process-wide tracker is made on first use, with ``options`` (any Tracker
    keyword, e.g. ``sim_gpu="A100", sim_gpu_watts=400, sim_gpu_util=1.0``), and shared by every
    window with the same options. Returns a :class:`Window`; its ``result`` (a WindowMeasurement:
    duration_s, joules, joules_by_component, energy_kwh with PUE, co2_g) is known when the block or
    call ends. Raises OptionsError/TypeError for bad options, UsageError on a stopped tracker.
    """
    if tracker is not None and options:
        raise TypeError("track(): give either a tracker or options, not both")
    return Window(name, tracker=tracker, options=options)
