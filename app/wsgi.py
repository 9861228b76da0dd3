"""WSGI entry for production servers: `gunicorn 'app.wsgi:application'`."""

from app import create_app, freeze_startup_objects

application = create_app()
freeze_startup_objects()
