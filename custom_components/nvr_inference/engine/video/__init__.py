"""Video in: sources, capture, and what happens to a stream while it is paused or down.

What a user configures (sources), opening and probing them (capture, probe), when each frame was
captured, parking a paused camera, and rebuilding a camera's pipeline until it first connects.
"""
