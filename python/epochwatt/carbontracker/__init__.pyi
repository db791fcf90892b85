"""A drop-in for carbontracker 2.4's tracker class, backed by epochwatt's C++ library.

Change ``from carbontracker.tracker import CarbonTracker`` to
``from epochwatt.carbontracker import CarbonTracker``. ComponentNameError is in
``epochwatt.carbontracker.tracker``.
"""
from .tracker import CarbonTracker as CarbonTracker

__all__ = ["CarbonTracker"]
