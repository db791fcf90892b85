"""carbontracker 2.4's ``CarbonTracker`` class on epochwatt's C++ tracker."""
import os
from collections.abc import Mapping

from .. import Tracker
from .._epochwatt import Error as Error
from .._epochwatt import OptionsError

__all__ = ["CarbonTracker", "ComponentNameError", "Error"]

class ComponentNameError(OptionsError):
    """An unknown name in ``components``: "No component found with name '{x}'." (carbontracker's
    ComponentNameError). Also a ValueError, through OptionsError."""

class CarbonTracker:
    """carbontracker 2.4's tracker: ``epoch_start()``/``epoch_end()`` around each epoch, the
    prediction after ``epochs_before_pred`` epochs, the actual consumption after
    ``monitor_epochs`` epochs or at ``stop()``. Energy in kWh includes the PUE; CO2 in gCO2e.

    Never exits the process on an error; answering "n" to ``stop_and_confirm`` raises
    SystemExit(0) from epoch_end() after the report, as carbontracker does.
    """

    epochs: int
    """The `epochs` given to the constructor."""
    epoch_counter: int
    """Epochs started so far (epoch_start() calls while tracking)."""
    deleted: bool
    """True once the run has been reported (monitor_epochs reached, stop(), or the user quit);
    the methods then do nothing."""
    ignore_errors: bool

    def __init__(
        self,
        epochs: int,
        epochs_before_pred: int = 1,
        monitor_epochs: int = -1,
        update_interval: float = 1,
        interpretable: bool = True,
        stop_and_confirm: bool = False,
        ignore_errors: bool = False,
        components: str = "all",
        devices_by_pid: bool = False,
        log_dir: str | os.PathLike[str] | None = None,
        log_file_prefix: str = "",
        verbose: int = 1,
        decimal_precision: int = 12,
        api_keys: Mapping[str, object] | None = None,
        sim_cpu: str | None = None,
        sim_cpu_tdp: float | None = None,
        sim_cpu_util: float | None = None,
        sim_gpu: str | None = None,
        sim_gpu_watts: float | None = None,
        sim_gpu_util: float | None = None,
        **epochwatt_options: object,
    ) -> None:
        """Arguments and defaults are carbontracker 2.4.3's: update_interval in seconds;
        sim_cpu_tdp and sim_gpu_watts in W; sim_cpu_util/sim_gpu_util a fraction 0-1 (None: the
        library's 0.5). api_keys: carbontracker's provider ids ('electricitymaps',
        'carbonintensityGB', 'energidataservice') -> key; an unknown id is skipped with a
        warning. More keyword arguments (any epochwatt.Tracker option, e.g. ``pue=1.1`` or
        ``offline=True``) pass through and win over the arguments above.

        Raises OptionsError (a ValueError) with carbontracker's messages for invalid arguments,
        ComponentNameError for an unknown component, TypeError for an unknown keyword, and
        epochwatt.Error when nothing can be measured (unless ignore_errors).
        """
    def epoch_start(self) -> None:
        """Start an epoch (only the time is stamped here; the sampler reads the meters)."""
    def epoch_end(self) -> None:
        """End the epoch; prints the prediction after epoch ``epochs_before_pred`` and the actual
        consumption after epoch ``monitor_epochs`` before returning. Raises SystemExit(0) when
        the user answered "n" to stop_and_confirm; UsageError without epoch_start() (unless
        ignore_errors)."""
    def stop(self) -> None:
        """Report the epochs that ended (use it with early stopping). A no-op once reported."""
    def set_api_keys(self, api_dict: Mapping[str, object]) -> None:
        """carbontracker's set_api_keys: has no effect on a running tracker and warns
        (UserWarning); pass api_keys= to the constructor instead."""
    @property
    def tracker(self) -> Tracker:
        """The epochwatt.Tracker underneath (prediction(), totals(), epochs(), log paths...)."""
