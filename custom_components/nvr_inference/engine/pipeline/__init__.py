"""Running Roboflow's InferencePipeline: one per source, and the engine that owns them all.

Also where the pipeline class comes from (imported lazily), whether this Python can host it,
each source's status and stats, and the fps limit applied before detection.
"""
