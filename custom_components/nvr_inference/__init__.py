"""nvr_inference: InferencePipeline on camera streams, detections on MQTT, a pause you can trust."""
