from __future__ import annotations

import os
from importlib import import_module

import django
from django.conf import settings

from renkei.lib.querystring import Handler
from renkei.lib.startup import refuse_unsafe_settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renkei.settings")
# get_wsgi_application(), with Django's handler subclassed for a cheaper request.GET
# (renkei.lib.querystring); everything else is Django's.
django.setup(set_prefix=False)
application = Handler()
# Servers such as gunicorn do not run Django's system checks: refuse demo-only settings here.
refuse_unsafe_settings()
# Import the URLconf (every view module and ninja schema) while the worker boots, not inside
# its first request: that request paid seconds under load, and a server's health check timed out.
import_module(settings.ROOT_URLCONF)
