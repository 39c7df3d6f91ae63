"""The worker image and the Home Assistant app image, run by podman or Docker."""
