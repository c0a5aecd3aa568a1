"""Keeping presigned URLs out of logs written by libraries we do not control.

A presigned URL grants access to a blob until it expires; its query string is the credential. Our own code never
logs one; urllib3 (request lines, retry warnings) and botocore (DEBUG response bodies of GetDownloadUrlForLayer)
would, so their loggers get a filter that cuts every query string out of the formatted message.
"""

from __future__ import annotations

import logging
import re

_QUERY = re.compile(r"\?[^\s'\"\\]*")
# botocore's DEBUG request dump carries SigV4 Authorization headers: not a lasting secret, but no log needs one.
_SIGNATURE = re.compile(r"Signature=[0-9a-fA-F]+")


class RedactQueryStrings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # Format first, then redact: a URL may arrive in msg or in any argument, formatted by %s or %r.
        message = _QUERY.sub("?<redacted>", record.getMessage())
        record.msg = _SIGNATURE.sub("Signature=<redacted>", message)
        record.args = None
        return True


def redact(text: str) -> str:
    """``text`` with every query string and signature cut out (for messages nobody vetted, e.g. a bug's)."""
    return _SIGNATURE.sub("Signature=<redacted>", _QUERY.sub("?<redacted>", text))


def redact_query_strings(*logger_names: str) -> None:
    """Filter these loggers (a logger's filters see only its own records, so each one is named)."""
    for name in logger_names:
        target = logging.getLogger(name)
        if not any(isinstance(existing, RedactQueryStrings) for existing in target.filters):
            target.addFilter(RedactQueryStrings())
