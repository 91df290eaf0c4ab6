"""Wspólnota: shared runtime (transport, configuration, CLI) for the four services."""
