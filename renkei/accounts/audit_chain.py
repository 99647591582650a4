"""Walking the audit log's hash chain (issue 17 §4, ADR 0015).

The chain shows an entry edited, inserted or removed in the middle of the log. A rewrite of
the whole chain from some point on, or a cut of its end, leaves a consistent chain behind:
the daily anchor (the latest id and digest, written to the log output by
``renkei.accounts.jobs.verify_audit_chain`` and kept apart from the database) catches those,
when passed back as ``verify_audit --anchor ID:DIGEST``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from django.utils import timezone

from renkei.accounts.models import AuditEntry, first_broken_audit_entry

logger = logging.getLogger("renkei.audit")


@dataclass(frozen=True)
class Anchor:
    id: int
    digest: str

    @classmethod
    def parse(cls, text: str) -> Anchor:
        """``ID:DIGEST`` as the anchor line prints it."""
        head, sep, digest = text.strip().partition(":")
        if not sep or not head.isdigit() or len(digest) != 64:
            raise ValueError(f"アンカーは「ID:ハッシュ（64桁）」の形で指定してください: {text!r}")
        return cls(int(head), digest.lower())

    def __str__(self) -> str:
        return f"{self.id}:{self.digest}"


@dataclass(frozen=True)
class ChainReport:
    checked: int
    seconds: float
    broken: AuditEntry | None = None
    latest: Anchor | None = None
    # Anchors whose entry is gone or carries another digest now.
    lost_anchors: list[Anchor] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.broken is None and not self.lost_anchors

    def problems(self) -> list[str]:
        lines = []
        if (e := self.broken) is not None:
            lines.append(
                f"監査ログの連鎖が id={e.pk} で切れています"
                f"（{timezone.localtime(e.at):%Y-%m-%d %H:%M:%S} {e.action} {e.actor_label}）: "
                "この記録か、その直前の記録が書き換えられたか削除されています"
            )
        for anchor in self.lost_anchors:
            lines.append(
                f"アンカー {anchor} の記録が見つからないか、ハッシュが一致しません: "
                "それ以降の連鎖が作り直されたか、末尾が削除されています"
            )
        return lines


def verify(anchors: list[Anchor] | None = None, using: str = "default") -> ChainReport:
    started = time.perf_counter()
    broken, checked = first_broken_audit_entry(using)
    lost = []
    for anchor in anchors or []:
        stored = (
            AuditEntry.objects.using(using)
            .filter(pk=anchor.id)
            .values_list("digest", flat=True)
            .first()
        )
        if stored != anchor.digest:
            lost.append(anchor)
    last = AuditEntry.objects.using(using).order_by("-id").values_list("id", "digest").first()
    return ChainReport(
        checked=checked,
        seconds=time.perf_counter() - started,
        broken=broken,
        latest=Anchor(*last) if last else None,
        lost_anchors=lost,
    )
