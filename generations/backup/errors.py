class BackupError(Exception):
    """A backup or restore cannot go on; the message says why, for a person to read."""
