"""carbontracker 2.4's ``CarbonTracker`` class on epochwatt's C++ tracker.

Same constructor arguments, methods, console text and log files (docs/python.md lists the
differences). The console lines, the three log files and every figure come from the C++ library,
the same code as the C++ API and the command line.
"""
from __future__ import annotations

import warnings

from .. import Tracker, _flush_stdout
from .._epochwatt import Error, OptionsError

# carbontracker 2.4's provider ids (api_keys) -> epochwatt's live provider names.
_PROVIDERS = {
    "electricitymaps": "electricitymaps",
    "carbonintensityGB": "carbonintensity.org.uk",
    "energidataservice": "energidataservice",
}


class ComponentNameError(OptionsError):
    """An unknown name in ``components``: "No component found with name '{x}'." (carbontracker's
    ComponentNameError, which it then turned into exit status 70)."""


def _live_providers_and_keys(api_keys):
    """carbontracker's api_keys {id: key} -> (live_providers, api_keys) for the C++ options.

    The ids select the providers, in order, as in carbontracker 2.4; keyless providers
    (carbonintensityGB, energidataservice) work with any key, '' included (2.4 could not use them,
    spec D14). An unknown id is skipped with a warning instead of exiting.
    """
    if not api_keys:
        return None, None
    providers, keys = [], {}
    for pid, key in dict(api_keys).items():
        name = _PROVIDERS.get(pid)
        if name is None:
            warnings.warn(
                f"Unknown intensity provider id '{pid}' in api_keys; skipped. Supported: "
                + ", ".join(_PROVIDERS), stacklevel=4)
            continue
        providers.append(name)
        if key:
            keys[name] = str(key)
    return (providers or ["none"]), keys


class CarbonTracker:
    """carbontracker 2.4's tracker: ``epoch_start()``/``epoch_end()`` around each epoch, the
    prediction after ``epochs_before_pred`` epochs, the actual consumption after
    ``monitor_epochs`` epochs or at ``stop()``.

    Arguments and defaults are carbontracker 2.4.3's (spec §2.1); more keyword arguments (any
    :class:`epochwatt.Tracker` option, e.g. ``pue=1.1`` or ``offline=True``) pass through.

    Raises ValueError (epochwatt.OptionsError) with carbontracker's messages for invalid
    arguments, ComponentNameError (also a ValueError) for an unknown component, and
    epochwatt.Error when nothing can be measured. Unlike carbontracker, it never exits the process
    on an error: with ``ignore_errors`` the error is logged and training goes on unmonitored. The
    one exit is the user's own: answering "n" to ``stop_and_confirm`` raises SystemExit(0) on the
    calling thread after the report, as carbontracker does.
    """

    def __init__(self, epochs, epochs_before_pred=1, monitor_epochs=-1, update_interval=1,
                 interpretable=True, stop_and_confirm=False, ignore_errors=False, components="all",
                 devices_by_pid=False, log_dir=None, log_file_prefix="", verbose=1,
                 decimal_precision=12, api_keys=None, sim_cpu=None, sim_cpu_tdp=None,
                 sim_cpu_util=None, sim_gpu=None, sim_gpu_watts=None, sim_gpu_util=None,
                 **epochwatt_options):
        options = dict(
            epochs=epochs, epochs_before_pred=epochs_before_pred, monitor_epochs=monitor_epochs,
            update_interval=update_interval, interpretable=interpretable,
            stop_and_confirm=stop_and_confirm, ignore_errors=ignore_errors, components=components,
            devices_by_pid=devices_by_pid, log_dir=log_dir, log_file_prefix=log_file_prefix,
            verbose=verbose, decimal_precision=decimal_precision, sim_cpu=sim_cpu,
            sim_cpu_tdp=sim_cpu_tdp, sim_gpu=sim_gpu, sim_gpu_watts=sim_gpu_watts)
        if sim_cpu_util is not None:
            options["sim_cpu_util"] = sim_cpu_util
        if sim_gpu_util is not None:
            options["sim_gpu_util"] = sim_gpu_util
        providers, keys = _live_providers_and_keys(api_keys)
        if providers is not None:
            options["live_providers"] = providers
            options["api_keys"] = keys
        options.update(epochwatt_options)
        self.epochs = epochs
        self.ignore_errors = ignore_errors
        self.epoch_counter = 0
        self._pred_after = epochs if epochs_before_pred == -1 else epochs_before_pred
        self._monitor_after = epochs if monitor_epochs == -1 else monitor_epochs
        try:
            self._tracker = Tracker(**options)
        except OptionsError as e:
            if str(e).startswith("No component found with name"):
                raise ComponentNameError(str(e)) from None
            raise
        self._raw = self._tracker._t
        self._sync = self._tracker._sync
        self._collect = self._tracker._collect
        self.deleted = False

    # -- carbontracker's API

    def epoch_start(self):
        """Start an epoch (only the time is stamped here; the sampler reads the meters)."""
        if self.deleted:
            return
        self.epoch_counter += 1
        if self._sync is not None:
            self._sync()
        self._raw.epoch_start()
        if self._collect:
            self._tracker._show_console()

    def epoch_end(self):
        """End the epoch; prints the prediction after epoch ``epochs_before_pred`` and the actual
        consumption after epoch ``monitor_epochs``, before returning."""
        if self.deleted:
            return
        # What Tracker.epoch_end does, inlined: this is the training loop's hot path.
        if self._sync is not None:
            self._sync()
        _flush_stdout()
        go_on = self._raw.epoch_end()
        if self._tracker._job is not None:
            self._tracker._job.epoch_ended()  # the job-wide reduction (docs/cluster.md)
        n = self.epoch_counter
        if n == self._pred_after or n == self._monitor_after:
            # A block goes to the console now, as carbontracker prints it inside epoch_end().
            self._raw.flush()
            self.deleted = self._raw.finished()
        if self._collect:
            self._tracker._show_console()
        if not go_on:
            # The user answered "n" to "Continue training (y/n)?": carbontracker's sys.exit(0).
            self.deleted = True
            raise SystemExit(0)

    def stop(self):
        """Report the epochs that ended (use it with early stopping). A no-op once reported."""
        if self.deleted:
            return
        self._tracker.stop()
        self.deleted = True

    def set_api_keys(self, api_dict):
        """carbontracker's set_api_keys. The providers of a running tracker are chosen when it is
        built, so keys given here are not used (carbontracker 2.4 drops them silently); this
        warns, naming ``api_keys=`` of the constructor as the way that works."""
        warnings.warn(
            "set_api_keys() after construction has no effect on this run; pass api_keys= to "
            "CarbonTracker() instead", stacklevel=2)

    # -- epochwatt's figures, for those who want them

    @property
    def tracker(self):
        """The epochwatt.Tracker underneath (prediction(), totals(), epochs(), log paths...)."""
        return self._tracker


__all__ = ["CarbonTracker", "ComponentNameError", "Error"]
