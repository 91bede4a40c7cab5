"""What a node sends out to people rather than to peers: e-mail by SMTP submission and
webhooks to on-call tools. Thin: the pager decides what goes, these only carry it."""
