# h12d: CPU per candidates page in process (not committed; run by bench/before_after.sh)
import time
from typing import Any
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from renkei.referrals.testing import make_case, make_receiver
from renkei.referrals.tests.test_matching import place
from renkei.directory.models import FacilityKind, VacancyStatus
from renkei.testing import sign_in


def test_cpu(msw: Any, settings: Any) -> None:
    settings.DEBUG = False
    for i in range(20):
        place(f"施設{i:02d}", km=1 + i * 0.3, capability_codes=["suction", "oxygen"] if i % 2 else ["suction"])
    for i in range(8):
        make_receiver(f"受入{i}", FacilityKind.TOKUYO, username=f"recv{i}", lat=35.3312 + i * 0.001, lng=139.4801,
                      capability_codes=["suction", "oxygen"], vacancy=VacancyStatus.AVAILABLE, confirmed_days_ago=1, accepts_dementia=True)
    case = make_case(msw, capability_codes=["suction", "oxygen"])
    client = sign_in(Client(), msw.user)
    url = f"/referrals/cases/{case.code}/candidates/"
    for _ in range(20):
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as q:
        client.get(url)
    stmts = len(q.captured_queries)
    for rnd in range(3):
        n = 300
        t = time.process_time()
        for _ in range(n):
            client.get(url)
        print(f"\nH12D cpu/page {(time.process_time() - t) / n * 1000:.2f} ms, statements {stmts}")
