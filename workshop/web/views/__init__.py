"""One blueprint per audience: participant, board, moderator, staff, admin, pages and the API."""
