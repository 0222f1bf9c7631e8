"""Reusable UI pieces. Each module renders one thing and reads what it shows from the engine (videogen)."""
