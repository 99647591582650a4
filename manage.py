#!/usr/bin/env python
from __future__ import annotations

import os
import sys

# Commands that serve requests or run jobs refuse demo-only settings outside DEBUG
# (renkei.lib.startup); tools that only read code and settings (makemigrations, mypy's plugin) and
# `check --deploy` (which reports the same problems) run anywhere.
SERVING_COMMANDS = {"runserver", "run_worker", "procrastinate"}

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renkei.settings")
    from django.core.management import execute_from_command_line

    if sys.argv[1:2] and sys.argv[1] in SERVING_COMMANDS:
        import django
        from django.core.exceptions import ImproperlyConfigured

        django.setup()
        from renkei.lib.startup import refuse_unsafe_settings

        try:
            refuse_unsafe_settings()
        except ImproperlyConfigured as e:
            sys.exit(str(e))
    execute_from_command_line(sys.argv)
