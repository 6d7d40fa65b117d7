"""ASGI entry point for uvicorn workers: `wenti_web.asgi:create_from_environment`.

Each worker process builds its own `App` from `$WENTI_CONFIG`, starts its outbox
dispatcher (deliveries are leased, so workers do not deliver the same message
twice at once) and closes the app when the server shuts down.
"""

from __future__ import annotations

from litestar import Litestar
from wenti.app import App

from wenti_web.server import create_app


def create_from_environment() -> Litestar:
    app = App.create()
    litestar_app = create_app(app)
    litestar_app.on_startup.append(lambda: app.outbox.start())
    litestar_app.on_shutdown.append(lambda: app.close())
    return litestar_app
