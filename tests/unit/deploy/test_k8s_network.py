"""deploy/k8s/networkpolicies.yaml: what each pod may reach and who may reach it.

The manifests are valid Kubernetes (test_k8s.py validates every file offline). Here a small
evaluator applies NetworkPolicy's own rules to the policies: a pod selected by any policy of
a direction is isolated in that direction, and what it may do is the union of the selecting
policies' rules. Its answer for each pod is compared with the whole, exact set of paths
edgewatch needs, the ports taken from edgewatch's own configuration of that pod.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.unit.deploy.test_k8s import _config, _container, _env, _manifests, _pod

Manifest = dict[str, Any]
# (peer, protocol, port): peer is "ip:<cidr>" or "pods:<namespace labels>/<pod labels>".
Path = tuple[str, str, int]

DNS = "pods:kubernetes.io/metadata.name=kube-system/k8s-app=kube-dns"
PROMETHEUS = "pods:kubernetes.io/metadata.name=monitoring/app.kubernetes.io/name=prometheus"
# RFC 5737: addresses for documentation, which no real server has. The shipped policies use
# them as placeholders, so an unedited apply reaches nothing instead of everything.
DOCUMENTATION = [
    ipaddress.IPv4Network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
]


def _policies() -> list[Manifest]:
    return [m for _, m in _manifests() if m["kind"] == "NetworkPolicy"]


def _labels(selector: dict[str, Any] | None) -> str:
    assert not (selector or {}).get("matchExpressions"), "the evaluator reads matchLabels only"
    return ",".join(f"{k}={v}" for k, v in sorted((selector or {}).get("matchLabels", {}).items()))


def _peer(peer: Manifest) -> str:
    if "ipBlock" in peer:
        assert not peer["ipBlock"].get("except")
        return f"ip:{peer['ipBlock']['cidr']}"
    # A podSelector alone means pods of the policy's own namespace.
    namespace = _labels(peer["namespaceSelector"]) if "namespaceSelector" in peer else "(own)"
    return f"pods:{namespace}/{_labels(peer.get('podSelector'))}"


def _selects(policy: Manifest, labels: dict[str, str]) -> bool:
    wanted: dict[str, str] = policy["spec"]["podSelector"].get("matchLabels", {})
    return policy["metadata"]["namespace"] == "edgewatch" and wanted.items() <= labels.items()


def allowed(
    labels: dict[str, str], direction: str, policies: list[Manifest] | None = None
) -> set[Path] | None:
    """What a pod with `labels` may do in `direction` ("Ingress"/"Egress") under `policies`
    (the shipped ones by default): None when no policy isolates it (everything allowed), else
    the union of the selecting policies' rules."""
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    isolating = [
        p
        for p in (_policies() if policies is None else policies)
        if _selects(p, labels) and direction in p["spec"]["policyTypes"]
    ]
    if not isolating:
        return None
    out: set[Path] = set()
    for policy in isolating:
        for rule in policy["spec"].get(key, []):
            # An empty `to`/`from` or `ports` would mean every peer or every port.
            assert rule.get(peers_key), f"{policy['metadata']['name']}: a rule open to all peers"
            assert rule.get("ports"), f"{policy['metadata']['name']}: a rule open on all ports"
            for peer in rule[peers_key]:
                for port in rule["ports"]:
                    out.add((_peer(peer), port.get("protocol", "TCP"), int(port["port"])))
    return out


def _pod_labels(deployment: str) -> dict[str, str]:
    labels: dict[str, str] = _pod(deployment)["metadata"]["labels"]
    return labels


def _cidrs(paths: set[Path], port: int) -> set[str]:
    return {peer for peer, _, p in paths if p == port and peer.startswith("ip:")}


DNS_PATHS = {(DNS, "UDP", 53), (DNS, "TCP", 53)}


def test_the_namespace_is_closed_by_default() -> None:
    (deny,) = [p for p in _policies() if p["metadata"]["name"] == "default-deny"]
    assert deny["spec"]["podSelector"] == {}
    assert sorted(deny["spec"]["policyTypes"]) == ["Egress", "Ingress"]
    assert "ingress" not in deny["spec"] and "egress" not in deny["spec"]
    # Any other pod someone runs in the namespace: nothing in, only name lookups out.
    stranger = {"app": "debug-shell"}
    assert allowed(stranger, "Ingress") == set()
    assert allowed(stranger, "Egress") == DNS_PATHS


def test_ingest_reaches_only_kafka_elasticsearch_and_dns() -> None:
    cfg = _config(_env(_container("edgewatch-ingest", "ingest")))
    egress = allowed(_pod_labels("edgewatch-ingest"), "Egress")
    assert egress is not None
    kafka_ports = {int(b.rpartition(":")[2]) for b in cfg.kafka.bootstrap.split(",")}
    es_port = urlsplit(cfg.es.url).port
    assert es_port is not None
    (kafka_port,) = kafka_ports
    kafka, es = _cidrs(egress, kafka_port), _cidrs(egress, es_port)
    assert len(kafka) == 1 and len(es) == 1 and kafka != es
    expected = DNS_PATHS | {
        (kafka.pop(), "TCP", kafka_port),
        (es.pop(), "TCP", es_port),
    }
    assert egress == expected


def test_alert_reaches_only_elasticsearch_mail_webhooks_git_and_dns() -> None:
    cfg = _config(_env(_container("edgewatch-alert", "alert")))
    egress = allowed(_pod_labels("edgewatch-alert"), "Egress")
    assert egress is not None
    es_port = urlsplit(cfg.es.url).port
    assert es_port is not None and urlsplit(cfg.alert.painless_url).port == es_port
    # The same Elasticsearch as ingest's policy names.
    ingest = allowed(_pod_labels("edgewatch-ingest"), "Egress")
    assert ingest is not None
    assert _cidrs(egress, es_port) == _cidrs(ingest, es_port)
    smtp = _cidrs(egress, cfg.smtp.port)
    https = _cidrs(egress, 443)  # webhook receivers, and the rules repository for git-sync
    assert len(smtp) == 1 and len(https) == 2
    expected = (
        DNS_PATHS
        | {(peer, "TCP", es_port) for peer in _cidrs(ingest, es_port)}
        | {(peer, "TCP", cfg.smtp.port) for peer in smtp}
        | {(peer, "TCP", 443) for peer in https}
    )
    assert egress == expected
    # No Kafka: the alert service reads Elasticsearch only.
    kafka_port = int(cfg.kafka.bootstrap.split(",")[0].rpartition(":")[2])
    assert not _cidrs(egress, kafka_port)


@pytest.mark.parametrize(
    ("deployment", "container"), [("edgewatch-ingest", "ingest"), ("edgewatch-alert", "alert")]
)
def test_only_prometheus_reaches_the_status_port(deployment: str, container: str) -> None:
    spec = _container(deployment, container)
    cfg = _config(_env(spec))
    port = cfg.ingest.http_port if container == "ingest" else cfg.alert.http_port
    assert port in {p["containerPort"] for p in spec["ports"]}
    assert str(port) == _pod(deployment)["metadata"]["annotations"]["prometheus.io/port"]
    assert allowed(_pod_labels(deployment), "Ingress") == {(PROMETHEUS, "TCP", port)}


def test_every_address_is_a_placeholder_to_edit_and_none_is_open() -> None:
    cidrs = {
        peer["ipBlock"]["cidr"]
        for p in _policies()
        for rule in p["spec"].get("egress", []) + p["spec"].get("ingress", [])
        for peer in rule.get("to", []) + rule.get("from", [])
        if "ipBlock" in peer
    }
    assert cidrs
    for cidr in cidrs:
        network = ipaddress.IPv4Network(cidr)
        assert any(network.subnet_of(doc) for doc in DOCUMENTATION), cidr


def test_every_policy_selects_edgewatch_pods() -> None:
    pods = [_pod_labels("edgewatch-ingest"), _pod_labels("edgewatch-alert")]
    for policy in _policies():
        assert policy["spec"]["podSelector"] == {} or any(_selects(policy, p) for p in pods)


def test_the_evaluator_is_not_vacuous() -> None:
    """Without the default deny a pod no other policy selects is open; a rule without ports
    or peers is refused rather than read as a narrow one."""
    without_deny = [
        p for p in _policies() if p["metadata"]["name"] not in ("default-deny", "allow-dns")
    ]
    assert allowed({"app": "debug-shell"}, "Egress", without_deny) is None
    assert allowed(_pod_labels("edgewatch-alert"), "Egress", without_deny) is not None

    def wide(rule: Manifest) -> list[Manifest]:
        spec = {"podSelector": {}, "policyTypes": ["Egress"], "egress": [rule]}
        return [{"metadata": {"name": "wide", "namespace": "edgewatch"}, "spec": spec}]

    with pytest.raises(AssertionError, match="all ports"):
        allowed({"app": "x"}, "Egress", wide({"to": [{"ipBlock": {"cidr": "192.0.2.0/24"}}]}))
    with pytest.raises(AssertionError, match="all peers"):
        allowed({"app": "x"}, "Egress", wide({"ports": [{"port": 443}]}))
