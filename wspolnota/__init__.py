"""Wspólnota: shared runtime (transport, configuration, staff session, CLI) for the services; imports none of them."""
