"""Thin adapters from the ports to boto3 (ECR) and requests (blob downloads)."""
