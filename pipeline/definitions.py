"""The single entry point Dagster loads: definitions are discovered from `pipeline/defs/<layer>/`."""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    """Everything under pipeline/defs (assets, checks, sensors, jobs, resources)."""
    return dg.load_from_defs_folder(path_within_project=Path(__file__).resolve().parent)
