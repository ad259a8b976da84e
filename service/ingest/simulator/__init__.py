"""Simulated broadcasts flow in: a seeded model of a live room drives events into the API."""
