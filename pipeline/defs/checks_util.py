"""Wrap a problem list as an AssetCheckResult."""

import dagster as dg


def result_from(
    problems: list[str],
    check_name: str | None = None,
    asset_key: dg.AssetKey | None = None,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
    **metadata: object,
) -> dg.AssetCheckResult:
    """Passed when there are no problems; the first problems become markdown metadata."""
    md = "\n".join(f"- {p}" for p in problems[:20]) or "no problems"
    return dg.AssetCheckResult(
        passed=not problems,
        check_name=check_name,
        asset_key=asset_key,
        severity=severity,
        metadata={"problems": dg.MetadataValue.md(md), "count": len(problems), **metadata},
    )
