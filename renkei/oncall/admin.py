from __future__ import annotations

from django.contrib import admin

from renkei.oncall.models import Rota, RotaMember, ShiftRule


class MemberInline(admin.TabularInline[RotaMember, Rota]):
    model = RotaMember
    extra = 0


class RuleInline(admin.TabularInline[ShiftRule, Rota]):
    model = ShiftRule
    extra = 0


@admin.register(Rota)
class RotaAdmin(admin.ModelAdmin[Rota]):
    list_display = ["name", "organizer", "kind", "rotation"]
    inlines = [MemberInline, RuleInline]
    search_fields = ["name", "organizer__name"]
