"""Settings flow in once and down into the running processes: the app factory, the runtime each
process holds, the embedded `livetally up`, the gunicorn app, HTTP limits and migrations."""
