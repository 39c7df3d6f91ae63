"""What users write, for either host: the worker's YAML and flags, per-camera settings, filters.

Validated into settings apart from argparse and Home Assistant, and written back as YAML (the
hand-over from an integration entry to a worker), so both hosts read one grammar.
"""
