"""Single-purpose helpers that know nothing of the studio's models: file responses, safe
fetching from public addresses, object storage, and the launcher that starts and stops the
studio's processes (make run, the live tests, the bench)."""
