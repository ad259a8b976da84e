"""Data out to people: the pages (wall screen, console, review, scores), their labels in both
languages, templates and static files."""
