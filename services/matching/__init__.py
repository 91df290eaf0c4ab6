"""Wspólnota matching service."""
