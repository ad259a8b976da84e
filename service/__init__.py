"""The entry points, grouped by the way data flows: ingest (in), reads (answers), pages, feed
(out to screens), process (settings and the running processes), auth, cli and migrations."""
