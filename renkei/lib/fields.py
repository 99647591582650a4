"""Model fields whose values are encrypted at rest (renkei.lib.crypto)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.db.models import Lookup, Transform

from renkei.lib import crypto


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Text sealed with AES-GCM, bound to its column. Only `isnull` lookups work: search
    through a blind index stored beside it.

    A `max_length` is checked on the plaintext by forms and full_clean, as for a CharField.
    """

    description = "暗号化された文字列"

    def __init__(self, *args: Any, max_length: int | None = None, **kwargs: Any) -> None:
        self.plain_max_length = max_length
        super().__init__(*args, **kwargs)
        if max_length is not None:
            from django.core.validators import MaxLengthValidator

            self.validators.append(MaxLengthValidator(max_length))

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.plain_max_length is not None:
            kwargs["max_length"] = self.plain_max_length
        return name, path, args, kwargs

    def _context(self) -> str:
        return f"{self.model._meta.label_lower}.{self.name}"

    def to_plain(self, value: Any) -> str:
        return str(value)

    def from_plain(self, text: str) -> Any:
        return text

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        return crypto.encrypt(self.to_plain(value), context=self._context())

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return self.from_plain(crypto.decrypt(value, context=self._context()))

    def to_python(self, value: Any) -> Any:
        return value

    def get_lookup(self, lookup_name: str) -> type[Lookup[Any]] | None:
        if lookup_name != "isnull":
            # A randomised ciphertext equals nothing: a lookup would silently find no rows.
            raise NotImplementedError(
                f"{self.name}: encrypted fields are searched through their blind index"
            )
        return super().get_lookup(lookup_name)

    def get_transform(self, lookup_name: str) -> type[Transform] | None:
        raise NotImplementedError(f"{self.name}: encrypted fields have no transforms")

    def formfield(self, **kwargs: Any) -> Any:
        from django import forms

        defaults: dict[str, Any] = {"max_length": self.plain_max_length}
        if self.plain_max_length and self.plain_max_length <= 200:
            defaults["widget"] = forms.TextInput
        defaults.update(kwargs)
        return super().formfield(**defaults)


class EncryptedDateField(EncryptedTextField):
    """A date sealed as its ISO text (birth dates)."""

    description = "暗号化された日付"

    def to_plain(self, value: Any) -> str:
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return value.isoformat()
        return dt.date.fromisoformat(str(value)).isoformat()

    def from_plain(self, text: str) -> Any:
        return dt.date.fromisoformat(text)

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, dt.date):
            return value
        return dt.date.fromisoformat(str(value))

    def formfield(self, **kwargs: Any) -> Any:
        from django import forms

        return models.Field.formfield(self, **{"form_class": forms.DateField, **kwargs})
