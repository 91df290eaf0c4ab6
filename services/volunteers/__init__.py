"""Wspólnota volunteers service."""
