"""Development kit: an in-memory ECR that behaves like the real one where it matters, and realistic images.

Used by the functional tests, the stress runs and ``make demo``. Never shipped in the Lambda package.
"""
