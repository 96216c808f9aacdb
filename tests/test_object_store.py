"""Editions mirrored to S3-compatible storage (pipeline/lib/publish/object_store.py), against a local S3 server
(moto's, on a free loopback port): files first, then one write of latest.json; a failed upload leaves the pointer
on the previous edition; `reportctl build` with REPORT_PUBLISH_BUCKET mirrors the edition it published."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import copy_project, project_env, run_cli

from pipeline.lib.ingest.inputs import file_sha256
from pipeline.lib.publish.object_store import Bucket, ObjectStoreError, latest_in_bucket, publish_to_bucket

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture()
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A local S3 server with an empty bucket `reports`; yields its endpoint URL."""
    import boto3
    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for k, v in CREDENTIALS.items():
        monkeypatch.setenv(k, v)
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="reports")
    try:
        yield endpoint
    finally:
        server.stop()


def _edition(root: Path, edition_id: str, text: str) -> Path:
    folder = root / edition_id
    folder.mkdir(parents=True)
    (folder / "report.pdf").write_bytes(f"%PDF-1.7 {text}".encode())
    (folder / "edition.json").write_text(
        json.dumps({"edition_id": edition_id, "published_at": "2026-12-02T00:00:00+00:00"}), encoding="utf-8"
    )
    return folder


def test_bucket_url_is_checked() -> None:
    assert Bucket.parse("s3://reports/compute/") == Bucket("reports", "compute/")
    with pytest.raises(ValueError, match="not an s3://bucket"):
        Bucket.parse("/srv/reports")


def test_files_first_then_the_pointer_and_a_failure_keeps_the_previous_edition(s3: str, tmp_path: Path) -> None:
    import boto3

    bucket = Bucket.parse("s3://reports/compute", s3)
    client = boto3.client("s3", endpoint_url=s3)
    assert latest_in_bucket(bucket, client) is None
    first = _edition(tmp_path, "e1", "one")
    publish_to_bucket(first, bucket, client)
    pointer = latest_in_bucket(bucket, client)
    assert pointer["edition_id"] == "e1"
    assert pointer["files"]["report.pdf"] == file_sha256(first / "report.pdf")
    body = client.get_object(Bucket="reports", Key="compute/editions/e1/report.pdf")["Body"].read()
    assert body == (first / "report.pdf").read_bytes()

    class FailsOnSecondFile:
        """The real client, except that the second upload fails (a dropped connection mid-edition)."""

        def __init__(self) -> None:
            self.uploads = 0

        def upload_file(self, *args: object) -> None:
            from botocore.exceptions import EndpointConnectionError

            self.uploads += 1
            if self.uploads == 2:
                raise EndpointConnectionError(endpoint_url=s3)
            client.upload_file(*args)

        def put_object(self, **kwargs: object) -> None:
            client.put_object(**kwargs)

    second = _edition(tmp_path, "e2", "two")
    with pytest.raises(ObjectStoreError, match="still names the previous edition"):
        publish_to_bucket(second, bucket, FailsOnSecondFile())
    assert latest_in_bucket(bucket, client)["edition_id"] == "e1"
    publish_to_bucket(second, bucket, client)
    assert latest_in_bucket(bucket, client)["edition_id"] == "e2"


def test_cli_build_mirrors_the_edition_it_published(s3: str, built_template: Path, tmp_path: Path) -> None:
    import boto3

    copy_project(built_template, tmp_path)
    env = project_env(
        tmp_path / "sources",
        tmp_path,
        **CREDENTIALS,
        REPORT_PUBLISH_BUCKET="s3://reports/team",
        REPORT_S3_ENDPOINT_URL=s3,
    )
    built = run_cli(env, "build")
    assert built.returncode == 0, built.stdout + built.stderr
    local = (tmp_path / "out" / "latest").resolve()
    pointer = latest_in_bucket(Bucket.parse("s3://reports/team", s3), boto3.client("s3", endpoint_url=s3))
    assert pointer["edition_id"] == local.name
    assert pointer["files"] == {p.name: file_sha256(p) for p in local.iterdir() if p.is_file()}
