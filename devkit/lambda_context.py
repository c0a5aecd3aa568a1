"""A stand-in for the Lambda context object, with the attributes Powertools reads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field


@dataclass
class FakeLambdaContext:
    function_name: str = "ecr-multiarch-AssemblerFunction"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:ecr-multiarch-AssemblerFunction"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/ecr-multiarch-AssemblerFunction"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000
