"""The standalone worker: its paho host, settings, YAML export and command line."""
