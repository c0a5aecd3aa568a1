"""Manifest and config media types of the Docker v2 and OCI image formats."""

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"

DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"

IMAGE_MANIFESTS = frozenset({DOCKER_MANIFEST, OCI_MANIFEST})
INDEXES = frozenset({DOCKER_MANIFEST_LIST, OCI_INDEX})
CONFIGS = frozenset({DOCKER_CONFIG, OCI_CONFIG})

# Asked for by tag, ECR converts between Docker and OCI when the stored type is not accepted, which would change
# the digest under our feet; accepting all four always returns the bytes as pushed.
ALL_MANIFESTS: tuple[str, ...] = (DOCKER_MANIFEST, OCI_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX)

# BuildKit's attestation manifests (provenance, SBOM): an OCI image manifest in the arch tag's index, platform
# unknown/unknown, linked to the image it describes by these two descriptor annotations.
REFERENCE_TYPE_ANNOTATION = "vnd.docker.reference.type"
REFERENCE_DIGEST_ANNOTATION = "vnd.docker.reference.digest"
ATTESTATION_MANIFEST = "attestation-manifest"
