"""The demo (scripts/demo) as a person runs it."""
