"""Thin adapters from the ports to botocore (ECR) and urllib3 (blob downloads)."""
