"""Custom integrations (Home Assistant loads custom_components.<domain>)."""
