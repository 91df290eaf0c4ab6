"""The front service: the one staff address (front door), sign-in, staff accounts and the dashboard."""
