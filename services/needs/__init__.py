"""Wspólnota needs service."""
