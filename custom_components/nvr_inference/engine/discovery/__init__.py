"""Home Assistant MQTT discovery: the devices and entities each host announces."""
