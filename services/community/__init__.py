"""Wspólnota community service: diagnosis of needs and potential, the organising plan, local animation, partners."""
