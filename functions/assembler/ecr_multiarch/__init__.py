"""ecr-multiarch: assemble multi-architecture image indexes in Amazon ECR from arch-suffixed tags."""
