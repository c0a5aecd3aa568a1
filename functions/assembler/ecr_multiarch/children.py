"""Reading what the decision needs beyond the first read: each arch's image manifest and the platform its config
states (downloaded once per config digest, in parallel, and cached)."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from .domain.decision import Arch, Child, Held
from .domain.digest import Digest
from .domain.json_document import parse_json_document
from .domain.manifest import ConfigReference, InvalidManifestError, config_reference
from .domain.platform import InvalidConfigError, Platform, platform_from_config
from .errors import BlobUrlExpiredError, PermanentError
from .ports import BlobReader, Registry

logger = logging.getLogger(__name__)

# Config downloads in flight at once for one assembly (one per architecture, at most this many).
MAX_PARALLEL_DOWNLOADS = 8


class ChildRejectedError(PermanentError):
    """A child that cannot go into an index (unreadable manifest or config, an arch index naming a manifest the
    repository does not hold): a ``rejected`` outcome, nothing written."""


class PlatformCache:
    """Platforms by config digest. Content-addressed, so an entry is never stale; bounded so memory is too."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._entries: OrderedDict[Digest, Platform] = OrderedDict()
        self._max_entries = max_entries
        self._lock = threading.Lock()

    def get(self, digest: Digest) -> Platform | None:
        with self._lock:
            platform = self._entries.get(digest)
            if platform is not None:
                self._entries.move_to_end(digest)
            return platform

    def put(self, digest: Digest, platform: Platform) -> None:
        with self._lock:
            self._entries[digest] = platform
            self._entries.move_to_end(digest)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class ChildReader:
    """Each arch's image manifest and platform: one BatchGetImage for the images inside arch indexes (if any),
    then the configs not cached yet, downloaded together."""

    def __init__(self, registry: Registry, blobs: BlobReader, platforms: PlatformCache) -> None:
        self._registry = registry
        self._blobs = blobs
        self._platforms = platforms

    def read(self, repository: str, arches: Sequence[Arch]) -> list[Child]:
        images = self._image_manifests(repository, arches)
        configs = [self._config_reference(repository, image) for image in images]
        self._fetch_platforms(repository, [(image.tag, config) for image, config in zip(images, configs,
                                                                                           strict=True)])
        return [Child(arch, image, self._platform(repository, image.tag, config))
                for arch, image, config in zip(arches, images, configs, strict=True)]

    def _image_manifests(self, repository: str, arches: Sequence[Arch]) -> list[Held]:
        """The image manifest of each arch: the tag's own, or (index children) read by digest in one call."""
        wanted = [arch.selection.image.digest for arch in arches if arch.selection is not None]
        fetched = self._registry.get_manifests_by_digest(repository, wanted) if wanted else {}
        images: list[Held] = []
        for arch in arches:
            if arch.selection is None:
                images.append(arch.stored)
                continue
            media_type, size, digest = arch.image
            image = fetched.get(digest)
            if image is None:
                raise ChildRejectedError(f"{repository}:{arch.stored.tag} is an index naming {digest}, which is not "
                                         "in the repository")
            if image.media_type != media_type or len(image.body) != size:
                raise ChildRejectedError(f"{repository}:{arch.stored.tag} is an index whose entry for {digest} "
                                         f"states {media_type}, {size} bytes, but the manifest is "
                                         f"{image.media_type}, {len(image.body)} bytes")
            images.append(replace(image, tag=arch.stored.tag))
        return images

    def _config_reference(self, repository: str, manifest: Held) -> ConfigReference:
        try:
            return config_reference(manifest.body, manifest.media_type)
        except InvalidManifestError as error:
            raise ChildRejectedError(f"{repository}:{manifest.tag} {error}") from None

    def _fetch_platforms(self, repository: str, configs: list[tuple[str, ConfigReference]]) -> None:
        """Download the configs not cached yet, in parallel when there are several (8 arches: one round trip)."""
        unique = {config.digest: (tag, config) for tag, config in configs if self._platforms.get(config.digest) is None}
        if len(unique) < 2:
            return  # zero or one: read() fetches it inline, no thread pool needed
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_DOWNLOADS, len(unique))) as pool:
            futures = [pool.submit(self._platform, repository, tag, config) for tag, config in unique.values()]
            for future in futures:
                future.result()  # re-raises the first failure (rejection or transient) in this thread

    def _platform(self, repository: str, tag: str, config: ConfigReference) -> Platform:
        cached = self._platforms.get(config.digest)
        if cached is not None:
            return cached
        body = self._download(repository, config)
        try:
            platform = platform_from_config(parse_json_document(body, "config"))  # bounded: never RecursionError
        except (ValueError, InvalidConfigError) as error:
            raise ChildRejectedError(f"{repository}:{tag} config {config.digest} is unusable: {error}") from None
        self._platforms.put(config.digest, platform)
        return platform

    def _download(self, repository: str, config: ConfigReference) -> bytes:
        url = self._registry.config_download_url(repository, config.digest)
        try:
            return self._blobs.read(url, config.digest, config.size)
        except BlobUrlExpiredError:
            # Presigned URLs are short-lived; one fresh URL is worth a try, a second refusal is not ours to fix.
            logger.info("download URL expired; asking ECR for a fresh one", extra={"digest": str(config.digest)})
            url = self._registry.config_download_url(repository, config.digest)
            return self._blobs.read(url, config.digest, config.size)
