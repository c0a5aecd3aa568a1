"""The pure core: no boto3, no HTTP, no environment, no clock. Everything here is a value or a function of values."""
