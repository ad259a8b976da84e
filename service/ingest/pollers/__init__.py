"""Live-room pollers: the platforms' own aggregate readings of a connected account's rooms,
turned into `room.stats_reported` (and sessions that open and end themselves)."""
