"""One blueprint per audience: participant, board, moderator and the JSON API."""
