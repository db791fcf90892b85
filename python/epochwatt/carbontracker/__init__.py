"""A drop-in for carbontracker 2.4's tracker class, backed by epochwatt's C++ library.

Change ``from carbontracker.tracker import CarbonTracker`` to
``from epochwatt.carbontracker import CarbonTracker`` (or ``from epochwatt.carbontracker.tracker
import CarbonTracker``); nothing else. The differences, each a defect of the original that is not
copied, are listed in docs/python.md.
"""
from .tracker import CarbonTracker

__all__ = ["CarbonTracker"]
