"""The engine: Roboflow's InferencePipeline, the pause fence, detectors and messages.

Pure Python with no Home Assistant imports, so the same code runs inside Home Assistant
(embedded mode) and in the standalone worker process.
"""
