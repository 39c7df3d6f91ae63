"""Video in: sources, capture, the pipeline runner, and whether this Python can host it."""
