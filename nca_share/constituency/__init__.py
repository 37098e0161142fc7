"""Constituency: organisations (KVK, SBI, size, region, NIS2 class, maturity), their assets,
contacts and delivery preferences, and the partnerships (samenwerkingsverbanden) they belong to.
"""
