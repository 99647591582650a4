"""Tests run with DEBUG on, asked for explicitly: production is the settings' default.

Loaded with `-p tests.debug_env` (pyproject's addopts), before pytest-django imports the
settings, which a conftest.py would be too late for. pytest-django still runs each test with
settings.DEBUG False, as Django's test runner does; this decides only what the settings module
sees at import (the demo keys, the plain static storage). Tests of production settings start
a subprocess with DEBUG=False and their own keys.
"""

from __future__ import annotations

import os

os.environ["DEBUG"] = "True"
