"""The standalone worker: its paho host, settings, YAML export and command line.

cli (the entry point, wiring only), parser (argparse), config and grammar (flags and the YAML
file to validated settings), logs (the secret filter), settings (what a worker runs on),
mqtt and service (the paho host), yaml_export (settings back to a config file). Imports
nothing: Home Assistant imports `settings` and `yaml_export` from here without the rest.
"""
