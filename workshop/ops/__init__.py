"""Running the app: start-up, the server, retention and the command line."""
