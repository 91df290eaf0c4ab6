"""Wspólnota notify service."""
