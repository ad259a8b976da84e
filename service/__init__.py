"""The entry points: the Flask API, the websocket feed, the screens and the `livetally` command."""
