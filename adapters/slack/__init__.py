"""The Slack front door: pure translation (`translate`), rendering (`render`) and the
interaction contexts that travel inside Slack (`actions`)."""
