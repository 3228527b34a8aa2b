"""Single-purpose helpers that know nothing of the studio's models: file responses, safe
fetching from public addresses, object storage."""
