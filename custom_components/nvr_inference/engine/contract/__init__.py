"""The MQTT contract: commands, messages, status, host identity, discovery, the control plane."""
