"""The Slack front door: pure translation (`translate`), rendering (`blocks`) and the
interaction contexts that travel inside Slack (`actions`)."""
