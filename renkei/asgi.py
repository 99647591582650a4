from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

from renkei.lib.startup import refuse_unsafe_settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renkei.settings")
application = get_asgi_application()
# Servers such as gunicorn do not run Django's system checks: refuse demo-only settings here.
refuse_unsafe_settings()
