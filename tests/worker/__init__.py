"""Tests of the standalone worker: a real subprocess, a real broker, the real pipeline."""
