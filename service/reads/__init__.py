"""Data out as answers: read-model queries (views), scores, reviews and exports, and the API
blueprints that serve them."""
