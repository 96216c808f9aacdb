"""The cluster profile (deploy/k8s) without a cluster: the run launcher's configuration is valid for the pinned
dagster-k8s, and the Kubernetes Job a run would get carries our image, secrets, data volume, report paths and
resources. Nothing is sent to a cluster (none is installable here; docs/deploy.md says what is not exercised)."""

from __future__ import annotations

import yaml

from pipeline.config import PROJECT_ROOT

K8S = PROJECT_ROOT / "deploy" / "k8s"


def _launcher_config() -> dict:
    return yaml.safe_load((K8S / "run_launcher.yaml").read_text(encoding="utf-8"))


def test_run_launcher_configuration_is_valid_for_the_pinned_dagster_k8s() -> None:
    from dagster._config import process_config  # validation as the instance does it when it loads dagster.yaml
    from dagster_k8s import K8sRunLauncher

    section = _launcher_config()
    assert (section["module"], section["class"]) == ("dagster_k8s", "K8sRunLauncher")
    result = process_config(K8sRunLauncher.config_type(), section["config"])
    assert result.success, [e.message for e in result.errors]
    bad = process_config(K8sRunLauncher.config_type(), {**section["config"], "job_namespac": "typo"})
    assert not bad.success, "a misspelt key is refused, so this check can fail"


def test_a_run_gets_a_job_with_our_image_secrets_volume_and_paths() -> None:
    from dagster_k8s.job import DagsterK8sJobConfig, construct_dagster_k8s_job

    config = _launcher_config()["config"]
    values = yaml.safe_load((K8S / "values.yaml").read_text(encoding="utf-8"))
    deployment = values["dagster-user-deployments"]["deployments"][0]
    image = f"{deployment['image']['repository']}:{deployment['image']['tag']}"
    fields = {k: config[k] for k in DagsterK8sJobConfig._fields if k in config}
    job_config = DagsterK8sJobConfig(job_image=image, **fields)
    args = ["dagster", "api", "execute_run", '{"run_id": "0123abcd"}']
    job = construct_dagster_k8s_job(job_config, args, "dagster-run-0123abcd", component="run_worker")
    container = job.spec.template.spec.containers[0]
    assert container.image == image and container.args == args
    assert [e.secret_ref.name for e in container.env_from if e.secret_ref] == ["compute-report-env"]
    env = {e.name: e.value for e in container.env}
    assert env["REPORT_SOURCES_DIR"] == "/data/sources" and env["REPORT_OUTPUT_DIR"] == "/data/output"
    assert env["DAGSTER_HOME"] == "/opt/dagster/dagster_home"
    assert [(m.name, m.mount_path) for m in container.volume_mounts if m.name == "report-data"] == [
        ("report-data", "/data")
    ]
    claims = [v.persistent_volume_claim.claim_name for v in job.spec.template.spec.volumes if v.persistent_volume_claim]
    assert claims == ["compute-report-data"]
    assert container.resources.limits == {"cpu": "2", "memory": "4Gi"}
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "pipeline.definitions"]
    dockerfile = (K8S / "Dockerfile").read_text(encoding="utf-8")
    assert '"pipeline.definitions"' in dockerfile and "REPORT_OUTPUT_DIR=/data/output" in dockerfile
