"""Bridges to other tools (experiment trackers, training loops); each imports its tool only when called."""
