"""dramatiq workers that fold event streams into the read models."""
