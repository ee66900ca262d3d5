"""HTTP and Socket.IO: blueprints per audience, socket handlers, auth, request limits, assets and
security headers."""
