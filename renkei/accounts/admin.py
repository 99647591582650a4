from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from renkei.accounts.models import AuditEntry, Membership, Organization, TwoFactorPolicy, User


class MembershipInline(admin.TabularInline[Membership, User]):
    model = Membership
    extra = 0


@admin.register(User)
class RenkeiUserAdmin(UserAdmin[User]):
    inlines = [MembershipInline]
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Renkei", {"fields": ("display_name",)}))


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin[Organization]):
    list_display = ["name", "kind", "municipality", "is_active"]
    list_filter = ["kind"]
    search_fields = ["name", "kana"]


@admin.register(TwoFactorPolicy)
class TwoFactorPolicyAdmin(admin.ModelAdmin[TwoFactorPolicy]):
    list_display = ["role", "required"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin[AuditEntry]):
    list_display = ["at", "actor_label", "organization", "action", "target_repr", "ip"]
    list_filter = ["action"]
    search_fields = ["actor_label", "target_id", "target_repr"]

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: object) -> bool:
        return False
