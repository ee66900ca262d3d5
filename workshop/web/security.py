"""Response headers that keep pages from loading or running anything not served by us."""

from __future__ import annotations

from flask import Flask

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

#: What every response carries.
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
#: What only a document obeys (browsers ignore these on a script or a stylesheet): left off the
#: static modules and styles, whose headers a phone's first load pays for a dozen times.
DOCUMENT_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
#: Subresources that are never a document (no workers are used).
SUBRESOURCES = {"text/css", "text/javascript", "application/javascript"}


def init_app(app: Flask) -> None:
    @app.after_request
    def add_headers(response):
        headers = HEADERS
        if response.mimetype not in SUBRESOURCES:
            headers = {**HEADERS, **DOCUMENT_HEADERS}
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
