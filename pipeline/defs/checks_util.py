"""Wrap a problem list as an AssetCheckResult."""

import dagster as dg


def result_from(problems: list[str], **metadata: object) -> dg.AssetCheckResult:
    """Passed when there are no problems; the first problems become markdown metadata."""
    md = "\n".join(f"- {p}" for p in problems[:20]) or "no problems"
    return dg.AssetCheckResult(passed=not problems, metadata={"problems": dg.MetadataValue.md(md),
                                                              "count": len(problems), **metadata})
