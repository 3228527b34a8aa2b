"""`make bench` (`python -m bench`): pages under gunicorn, the pipeline, a worker's memory."""
