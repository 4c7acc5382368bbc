"""Constants."""

DOMAIN = "lintdemo"
CONF_HOST = "host"  # expect: home-assistant-duplicate-const
CONF_RETRIES = "retries"
