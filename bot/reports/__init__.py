"""SLA reports: what a month (or any period) of a customer's cases shows against its policy
(compute), read from the store (collect), sent on the first business day (monthly) and said
in a few lines of chat (summary)."""
