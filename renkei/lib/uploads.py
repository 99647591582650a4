"""The one record block of a stored upload: the file under a random name, its checked type
and size, when it came. Programmes' meeting materials and courses' material versions are both
this block plus what they hang from; each names its folder in `upload_folder()`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from django.core.files.uploadedfile import UploadedFile
from django.db import models

from renkei.lib.actions import ActionError

# extension → (content type, the first bytes a file of that type starts with)
FileTypes = Mapping[str, tuple[str, tuple[bytes, ...]]]


def upload_path(instance: Upload, filename: str) -> str:
    ext = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    # Random names: an upload's own name never reaches the file system.
    return f"{instance.upload_folder()}/{uuid.uuid4().hex}{ext}"


class Upload(models.Model):
    file = models.FileField("ファイル", upload_to=upload_path)
    content_type = models.CharField(max_length=120, editable=False)
    size = models.PositiveIntegerField(editable=False, default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    def upload_folder(self) -> str:
        raise NotImplementedError

    def store(self, upload: UploadedFile[bytes], content_type: str) -> None:
        """Keep the upload (its type already checked); the caller saves the row."""
        self.content_type = content_type
        self.size = upload.size or 0
        self.file.save(upload.name or "file", upload, save=False)


def checked_type(
    upload: UploadedFile[bytes],
    types: FileTypes,
    *,
    max_bytes: int,
    wrong_type: str,
    too_big: str,
    mismatch: str = "ファイルの中身が拡張子と一致しません",
) -> str:
    """The content type of an acceptable upload: an extension among `types`, at most
    `max_bytes`, and first bytes of that type (a renamed file is refused); else ActionError
    on the `file` field with the caller's words."""
    name = upload.name or ""
    ext = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in types:
        raise ActionError(wrong_type, field="file")
    if (upload.size or 0) > max_bytes:
        raise ActionError(too_big, field="file")
    content_type, magics = types[ext]
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(m) for m in magics):
        raise ActionError(mismatch, field="file")
    return content_type
