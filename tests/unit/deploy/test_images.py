"""Every container image deploy/ names is pinned by digest (`name:tag@sha256:<digest>`), except
the ones listed in NOT_YET_PINNED, whose published digests could not be looked up where this
was written (no registry access): pin them when you can, and this test then insists they stay.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
PINNED = re.compile(r"[a-z0-9./-]+:[\w.-]+@sha256:[0-9a-f]{64}")
# Tag only, for now. docs/operations.md ("Images") says how to add the digest.
NOT_YET_PINNED = {
    "apache/kafka:4.4.0",
    "docker.elastic.co/elasticsearch/elasticsearch:8.19.21",
    "docker.elastic.co/kibana/kibana:8.19.21",
    "axllent/mailpit:v1.31.3",
    "registry.k8s.io/git-sync/git-sync:v4.4.0",
}


def _dockerfile_images() -> set[str]:
    text = (DEPLOY / "docker" / "Dockerfile").read_text()
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", text, re.M))
    bases = re.findall(r"^FROM (\S+)", text, re.M)
    return {re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], b) for b in bases}


def _manifest_images() -> set[str]:
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "image" and isinstance(value, str):
                    found.add(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for path in [*DEPLOY.glob("k8s/*.yaml"), *DEPLOY.glob("compose/*.yml")]:
        if path.name != "kustomization.yaml":
            for doc in yaml.safe_load_all(path.read_text()):
                walk(doc)
    # Built here (compose) or set by the kustomization's `images` (k8s): not a pulled image.
    return found - {"edgewatch", "edgewatch:local"}


def test_images_are_pinned_by_digest() -> None:
    images = _dockerfile_images() | _manifest_images()
    unpinned = {image for image in images if not PINNED.fullmatch(image)}
    assert unpinned == NOT_YET_PINNED, (
        f"pin by digest (name:tag@sha256:...): {sorted(unpinned - NOT_YET_PINNED)}; "
        f"pinned now, drop from NOT_YET_PINNED: {sorted(NOT_YET_PINNED - unpinned)}"
    )
    assert images - unpinned, "at least the Dockerfile's base is pinned"


def test_the_python_base_is_pinned_by_digest() -> None:
    (base,) = _dockerfile_images()
    assert PINNED.fullmatch(base), base
    assert base.startswith("python:3.11-slim-bookworm@sha256:")
