"""Push times of tags, from ECR's DescribeImages (the stuck-version report dates waiting versions with them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..errors import TransientError

# ECR's DescribeImages takes at most 100 image ids per call.
DESCRIBE_IMAGES_LIMIT = 100


class EcrPushTimes:
    """DescribeImages by tag, 100 ids per call. ECR fails a whole call when one id is gone (ImageNotFound), so
    such a call is repeated one tag at a time, leaving out the gone ones."""

    def __init__(self, client: Any, registry_id: str | None = None) -> None:
        """``registry_id``: another account's registry (the CLI's cross-account references); None: the caller's."""
        self._client = client
        self._registry: dict[str, Any] = {} if registry_id is None else {"registryId": registry_id}

    def push_times(self, repository: str, tags: Sequence[str]) -> dict[str, datetime]:
        found: dict[str, datetime] = {}
        unique = list(dict.fromkeys(tags))
        for start in range(0, len(unique), DESCRIBE_IMAGES_LIMIT):
            chunk = unique[start : start + DESCRIBE_IMAGES_LIMIT]
            try:
                try:
                    found.update(self._describe(repository, chunk))
                except ClientError as error:
                    if error.response.get("Error", {}).get("Code") != "ImageNotFoundException":
                        raise
                    if len(chunk) > 1:  # a tag asked alone and gone is simply left out: nothing to ask again
                        for tag in chunk:
                            found.update(self._describe_if_present(repository, tag))
            except (ClientError, BotoCoreError) as error:
                raise TransientError(f"DescribeImages on {repository} failed: {type(error).__name__}") from None
        return found

    def _describe_if_present(self, repository: str, tag: str) -> dict[str, datetime]:
        try:
            return self._describe(repository, [tag])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ImageNotFoundException":
                return {}
            raise

    def _describe(self, repository: str, tags: list[str]) -> dict[str, datetime]:
        asked = set(tags)
        response = self._client.describe_images(repositoryName=repository, **self._registry,
                                                imageIds=[{"imageTag": tag} for tag in tags])
        found: dict[str, datetime] = {}
        for detail in response.get("imageDetails", []):
            for tag in set(detail.get("imageTags", [])) & asked:  # one image may carry several asked tags
                found[tag] = detail["imagePushedAt"]
        return found
