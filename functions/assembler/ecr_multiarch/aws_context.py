"""Facts the Lambda context gives for free, so the composition roots need not ask AWS for them."""

from __future__ import annotations

from typing import Any


def account_of(context: Any) -> str | None:
    """The account in the function's own ARN (the registry's account): saves an STS call on every cold start."""
    parts = str(getattr(context, "invoked_function_arn", "")).split(":")
    return parts[4] if len(parts) > 4 and parts[4].isdigit() else None
