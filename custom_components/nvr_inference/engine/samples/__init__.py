"""Deterministic sample scenes and the photographs they are made from."""
