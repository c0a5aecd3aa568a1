"""Thin adapters from the ports to botocore (ECR) and requests (blob downloads)."""
