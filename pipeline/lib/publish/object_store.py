"""Published editions on S3-compatible object storage (team and cluster profiles, docs/deploy.md).

Object stores have no symlinks and no atomic folder rename: an edition's files go under `editions/<id>/` first,
then one write of a small `latest.json` pointer makes it the latest. A reader that follows the pointer always finds
a complete edition; a failure before the pointer write leaves the previous edition the latest."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pipeline.lib.ingest.inputs import file_sha256
from pipeline.lib.publish.editions import EditionRecord

POINTER = "latest.json"


class ObjectStoreError(RuntimeError):
    """The bucket cannot be written or read; the message names it and the object."""


@dataclass(frozen=True)
class Bucket:
    """Where editions are mirrored: `s3://name/prefix/` and, for a server other than AWS, its endpoint URL."""

    name: str
    prefix: str = ""
    endpoint_url: str | None = None

    @classmethod
    def parse(cls, url: str, endpoint_url: str | None = None) -> Bucket:
        """`s3://bucket/some/prefix` → Bucket; ValueError naming what is accepted otherwise."""
        parts = urlparse(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"publish bucket {url!r} is not an s3://bucket[/prefix] URL")
        prefix = parts.path.strip("/")
        return cls(parts.netloc, f"{prefix}/" if prefix else "", endpoint_url or None)

    def key(self, *parts: str) -> str:
        """The object key of `parts` under the prefix."""
        return self.prefix + "/".join(parts)


def client_for(bucket: Bucket):
    """A boto3 S3 client for the bucket's endpoint (credentials from the usual AWS variables or files)."""
    import boto3

    return boto3.client("s3", endpoint_url=bucket.endpoint_url)


def publish_to_bucket(edition_dir: Path, bucket: Bucket, client: Any | None = None) -> dict[str, Any]:
    """Upload every file of a published edition folder, then switch `latest.json` to it; returns the pointer."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = client or client_for(bucket)
    edition_id = edition_dir.name
    files = {p.name: file_sha256(p) for p in sorted(edition_dir.iterdir()) if p.is_file()}
    record = EditionRecord.from_json(json.loads((edition_dir / "edition.json").read_text(encoding="utf-8")))
    try:
        for name in files:
            client.upload_file(str(edition_dir / name), bucket.name, bucket.key("editions", edition_id, name))
        pointer = {
            "edition_id": edition_id,
            "published_at": record.published_at,
            "prefix": bucket.key("editions", edition_id) + "/",
            "files": files,
        }
        client.put_object(
            Bucket=bucket.name,
            Key=bucket.key(POINTER),
            Body=json.dumps(pointer, indent=1, sort_keys=True).encode(),
            ContentType="application/json",
        )
    except (BotoCoreError, ClientError) as exc:
        raise ObjectStoreError(
            f"edition {edition_id} could not be mirrored to s3://{bucket.name}/{bucket.prefix} ({exc}); the "
            f"bucket's {POINTER} still names the previous edition, the local edition is published"
        ) from exc
    return pointer


def latest_in_bucket(bucket: Bucket, client: Any | None = None) -> dict[str, Any] | None:
    """The bucket's current pointer, or None when nothing was published there yet."""
    from botocore.exceptions import ClientError

    client = client or client_for(bucket)
    try:
        body = client.get_object(Bucket=bucket.name, Key=bucket.key(POINTER))["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise ObjectStoreError(f"s3://{bucket.name}/{bucket.key(POINTER)} cannot be read ({exc})") from exc
    return json.loads(body)
