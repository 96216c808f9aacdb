"""Turn a SourceError into a Dagster Failure whose description is the analyst-readable message."""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from pipeline.lib.errors import SourceError


@contextmanager
def reported_as_failure() -> Iterator[None]:
    """Re-raise SourceError as dg.Failure (message first, problems as metadata)."""
    try:
        yield
    except SourceError as exc:
        raise dg.Failure(
            description=str(exc),
            metadata={"problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in exc.problems))},
        ) from exc
