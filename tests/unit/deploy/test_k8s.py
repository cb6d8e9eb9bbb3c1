"""deploy/k8s/: every manifest valid against the Kubernetes API schemas, offline, and the
settings that matter for edgewatch checked against edgewatch's own configuration."""

from __future__ import annotations

import copy
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from pipeline.config import Config, load_config

ROOT = Path(__file__).resolve().parents[3]
K8S = ROOT / "deploy" / "k8s"
SECRETS = K8S / "secrets"
# The oldest Kubernetes we claim to support, and the newest the validator knows.
VERSIONS = ("1.29", kubernetes_validate.latest_version())

Manifest = dict[str, Any]
# The kinds that run edgewatch's pods: ingest is a StatefulSet (stable pod names for static
# group membership), alert a Deployment.
WORKLOADS = ("Deployment", "StatefulSet")


def _manifests() -> list[tuple[str, Manifest]]:
    out = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                out.append((path.name, doc))
    return out


def _one(kind: str, name: str) -> Manifest:
    found = [m for _, m in _manifests() if m["kind"] == kind and m["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}"
    return found[0]


def _validate(manifest: Manifest, version: str) -> None:
    kubernetes_validate.validate(manifest, version, strict=True)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    "manifest",
    [pytest.param(m, id=f"{f}:{m['kind']}/{m['metadata']['name']}") for f, m in _manifests()],
)
def test_manifest_is_valid_kubernetes(manifest: Manifest, version: str) -> None:
    try:
        _validate(manifest, version)
    except kubernetes_validate.ValidationError as err:
        path = "/".join(str(p) for p in err.path)
        where = f"{manifest['kind']}/{manifest['metadata']['name']} at /{path}"
        pytest.fail(f"{where} (Kubernetes {version}): {err.message}")


def test_validation_is_strict() -> None:
    """The check is not vacuous: a misspelt field and a wrong type both fail it."""
    statefulset = copy.deepcopy(_one("StatefulSet", "edgewatch-ingest"))
    container = statefulset["spec"]["template"]["spec"]["containers"][0]
    container["livenessProbe"]["httpGet"]["paht"] = "/"
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(statefulset, VERSIONS[-1])
    statefulset = copy.deepcopy(_one("StatefulSet", "edgewatch-ingest"))
    statefulset["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(statefulset, VERSIONS[-1])


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert sorted(kustomization["resources"]) == sorted(files)
    (image,) = kustomization["images"]
    containers = [
        c
        for _, m in _manifests()
        if m["kind"] in WORKLOADS
        for c in m["spec"]["template"]["spec"]["containers"]
    ]
    assert image["name"] in {c["image"] for c in containers}


def _config(env: dict[str, str]) -> Config:
    """edgewatch's configuration as a pod gets it: the ConfigMap's file, then the env."""
    toml = _one("ConfigMap", "edgewatch-config")["data"]["edgewatch.toml"]
    tomllib.loads(toml)  # a syntax error names the line here
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "edgewatch.toml"
        path.write_text(toml)
        return load_config(path, env)


def _workload(name: str) -> Manifest:
    """The Deployment or StatefulSet `name`."""
    found = [m for _, m in _manifests() if m["kind"] in WORKLOADS and m["metadata"]["name"] == name]
    assert len(found) == 1, name
    return found[0]


def _pod(name: str) -> Manifest:
    spec: Manifest = _workload(name)["spec"]["template"]
    return spec


def _container(name: str, container: str) -> Manifest:
    found: list[Manifest] = [c for c in _pod(name)["spec"]["containers"] if c["name"] == container]
    assert len(found) == 1, f"{name}/{container}"
    return found[0]


def _secret_example(name: str) -> dict[str, str]:
    """The keys of Secret `name` as its example env file gives them (`kubectl create secret
    generic NAME --from-env-file=...` reads the same format: KEY=VALUE, # comments)."""
    path = SECRETS / f"{name.removeprefix('edgewatch-')}.env.example"
    assert path.is_file(), f"Secret {name} has no example at {path.relative_to(ROOT)}"
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep and key == key.strip(), line
            pairs[key] = value
    return pairs


def _env(container: Manifest) -> dict[str, str]:
    """Literal env values, plus every key of the Secrets it loads (with their placeholders)."""
    env = {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
    env |= {e["name"]: "from-field" for e in container.get("env", []) if "valueFrom" in e}
    for source in container.get("envFrom", []):
        env |= _secret_example(source["secretRef"]["name"])
    return env


def _secret_refs() -> set[str]:
    return {
        source["secretRef"]["name"]
        for _, m in _manifests()
        if m["kind"] in WORKLOADS
        for c in m["spec"]["template"]["spec"]["containers"]
        for source in c.get("envFrom", [])
    }


def test_apply_never_writes_a_secret() -> None:
    """`kubectl apply -k` must not overwrite the Secrets the operator created with real values:
    no Secret manifest and no generator; the Secrets come from out-of-band `create secret`."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert not kustomization.get("secretGenerator")
    assert [m["metadata"]["name"] for _, m in _manifests() if m["kind"] == "Secret"] == []
    for name in _secret_refs():
        source = next(
            s
            for _, m in _manifests()
            if m["kind"] in WORKLOADS
            for c in m["spec"]["template"]["spec"]["containers"]
            for s in c.get("envFrom", [])
            if s["secretRef"]["name"] == name
        )
        # A missing Secret must stop the pod (CreateContainerConfigError), not start it
        # without credentials.
        assert not source["secretRef"].get("optional"), name


def test_secret_examples_are_placeholders_and_real_settings() -> None:
    names = _secret_refs()
    assert names == {"edgewatch-elasticsearch", "edgewatch-delivery"}
    examples = {p.name for p in SECRETS.iterdir()}
    assert examples == {f"{n.removeprefix('edgewatch-')}.env.example" for n in names}
    for name in names:
        pairs = _secret_example(name)
        assert set(pairs.values()) == {"change-me"}, "never commit credentials"
        # Each key is a setting edgewatch knows (an unknown EDGEWATCH_* key is an error).
        load_config(environ=pairs)
    delivery = _secret_example("edgewatch-delivery")
    assert {"EDGEWATCH_SMTP_PASSWORD", "EDGEWATCH_WEBHOOK_HMAC_SECRET"} <= set(delivery)


def _probe_path(container: Manifest, probe: str) -> tuple[str, int]:
    get = container[probe]["httpGet"]
    port = get["port"]
    if isinstance(port, str):
        (port,) = [p["containerPort"] for p in container["ports"] if p["name"] == port]
    return get["path"], port


def test_ingest_statefulset() -> None:
    statefulset = _one("StatefulSet", "edgewatch-ingest")
    pod = _pod("edgewatch-ingest")
    container = _container("edgewatch-ingest", "ingest")
    cfg = _config(_env(container))
    assert statefulset["spec"]["replicas"] >= 2
    # Rolled one pod at a time; scaled all at once (the ordinals are names, not an order).
    assert statefulset["spec"]["updateStrategy"]["type"] == "RollingUpdate"
    assert statefulset["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] == 1
    assert statefulset["spec"]["podManagementPolicy"] == "Parallel"
    assert container["args"][0] == "ingest"
    assert _probe_path(container, "livenessProbe") == ("/healthz", cfg.ingest.http_port)
    assert _probe_path(container, "readinessProbe") == ("/readyz", cfg.ingest.http_port)
    # The listener defaults to loopback; the kubelet probes the pod's own address.
    assert cfg.ingest.http_host == "0.0.0.0"
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][kind])
    anti = pod["spec"]["affinity"]["podAntiAffinity"]
    terms = anti.get("preferredDuringSchedulingIgnoredDuringExecution", []) + anti.get(
        "requiredDuringSchedulingIgnoredDuringExecution", []
    )
    selectors = [t.get("podAffinityTerm", t)["labelSelector"]["matchLabels"] for t in terms]
    assert pod["metadata"]["labels"]["app.kubernetes.io/name"] in [
        s.get("app.kubernetes.io/name") for s in selectors
    ]
    assert pod["spec"]["terminationGracePeriodSeconds"] > cfg.ingest.shutdown_timeout_s
    # Ingest needs no delivery credentials.
    assert "EDGEWATCH_SMTP_PASSWORD" not in _env(container)


def _from_pod_name(container: Manifest) -> set[str]:
    """The env variables the downward API fills with the pod's name."""
    return {
        e["name"]
        for e in container.get("env", [])
        if e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name"
    }


def test_ingest_pods_are_static_members_named_after_their_pod() -> None:
    """Each ingest pod's group.instance.id is its pod name: unique in the group, and the same
    after a restart of that member only because a StatefulSet names pods <name>-<ordinal>."""
    statefulset = _one("StatefulSet", "edgewatch-ingest")
    spec = statefulset["spec"]
    container = _container("edgewatch-ingest", "ingest")
    assert "EDGEWATCH_INGEST_INSTANCE_ID" in _from_pod_name(container)
    names = [f"{statefulset['metadata']['name']}-{i}" for i in range(spec["replicas"])]
    ids = []
    for name in names:
        env = _env(container) | dict.fromkeys(_from_pod_name(container), name)
        ids.append(_config(env).ingest.instance_id)
    assert ids == names
    # Stateless all the same: nothing to claim.
    assert "volumeClaimTemplates" not in spec
    # The governing Service: headless, over the same pods.
    service = _one("Service", spec["serviceName"])
    assert service["spec"]["clusterIP"] == "None"
    labels = _pod("edgewatch-ingest")["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    # Why it is there: the oldest Kubernetes we support requires serviceName.
    bare = copy.deepcopy(statefulset)
    del bare["spec"]["serviceName"]
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(bare, VERSIONS[0])


def test_ingest_pdb_selects_the_ingest_pods() -> None:
    pdb = _one("PodDisruptionBudget", "edgewatch-ingest")
    labels = _pod("edgewatch-ingest")["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["spec"].get("maxUnavailable") == 1 or pdb["spec"].get("minAvailable")


@pytest.mark.parametrize(
    ("deployment", "container", "port_of"),
    [("edgewatch-ingest", "ingest", "ingest"), ("edgewatch-alert", "alert", "alert")],
)
def test_metrics_scrape_annotations(deployment: str, container: str, port_of: str) -> None:
    annotations = _pod(deployment)["metadata"]["annotations"]
    cfg = _config(_env(_container(deployment, container)))
    port = cfg.ingest.http_port if port_of == "ingest" else cfg.alert.http_port
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert annotations["prometheus.io/port"] == str(port)


def test_alert_deployment_runs_once_with_rules_from_git() -> None:
    deployment = _one("Deployment", "edgewatch-alert")
    pod = _pod("edgewatch-alert")["spec"]
    alert = _container("edgewatch-alert", "alert")
    cfg = _config(_env(alert))
    # One live replica at any moment, also during a rollout.
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    assert _probe_path(alert, "livenessProbe") == ("/healthz", cfg.alert.http_port)
    assert _probe_path(alert, "readinessProbe") == ("/readyz", cfg.alert.http_port)
    assert cfg.alert.http_host == "0.0.0.0"
    # The rules folder is inside the volume git-sync writes, behind its link.
    sidecar = _container("edgewatch-alert", "git-sync")
    (init,) = pod["initContainers"]
    for syncer in (sidecar, init):
        assert syncer["image"].startswith("registry.k8s.io/git-sync/git-sync:v4.")
    git = {e["name"]: e["value"] for e in sidecar["env"]}
    assert {e["name"]: e["value"] for e in init["env"]} == {**git, "GITSYNC_ONE_TIME": "true"}
    (mount,) = [m for m in sidecar["volumeMounts"] if m["name"] == "rules"]
    (alert_mount,) = [m for m in alert["volumeMounts"] if m["name"] == "rules"]
    assert alert_mount["mountPath"] == mount["mountPath"] and alert_mount["readOnly"]
    rules_dir = alert["args"][alert["args"].index("--rules") + 1]
    assert rules_dir.startswith(f"{git['GITSYNC_ROOT']}/{git['GITSYNC_LINK']}/")
    assert git["GITSYNC_ROOT"].startswith(mount["mountPath"] + "/")
    # Delivery credentials come from the Secret; the relay from the ConfigMap.
    assert cfg.smtp.password == "change-me" and cfg.webhook.hmac_secret == "change-me"
    assert cfg.alert.painless_url == cfg.es.url


@pytest.mark.parametrize("deployment", ["edgewatch-ingest", "edgewatch-alert"])
def test_pods_run_as_non_root_without_privileges(deployment: str) -> None:
    pod = _pod(deployment)["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001  # the Dockerfile's USER
    for container in pod["containers"] + pod.get("initContainers", []):
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        assert context["readOnlyRootFilesystem"] is True
