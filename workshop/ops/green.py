"""Eventlet's monkey-patching, for the two ways to start the server (run.py and `workshop serve`).

It must run before any other module is imported: sockets, locks and threads made earlier stay
blocking. Everything else (tests, flask commands) runs unpatched.
"""

import os
import warnings


def patch() -> None:
    """Monkey-patch the standard library when the server runs on eventlet (the default)."""
    if os.environ.setdefault("WORKSHOP_ASYNC_MODE", "eventlet") != "eventlet":
        return
    # Eventlet is the customer's choice, kept behind WORKSHOP_ASYNC_MODE; its notice adds nothing.
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()
