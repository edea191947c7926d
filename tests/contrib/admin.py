"""An admin site for the ORM test models, configured the way projects configure theirs.

A site of its own (not ``admin.site`` with autodiscovery) keeps the tests independent
of whatever else registers models.
"""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User

from tests.orm.models import Author, Book

site = admin.AdminSite(name="nonrel_admin")


@admin.register(Author, site=site)
class AuthorAdmin(admin.ModelAdmin):
    fields = ["name", "email", "age", "active"]
    list_display = ["name", "age", "active"]
    search_fields = ["name", "email"]
    list_filter = ["active"]
    ordering = ["name"]
    list_per_page = 2
    sortable_by = ["name", "age"]


@admin.register(Book, site=site)
class BookAdmin(admin.ModelAdmin):
    list_display = ["title", "pages", "author"]
    search_fields = ["title"]
    list_filter = ["author"]
    list_per_page = 2


site.register(User, UserAdmin)
site.register(Group, GroupAdmin)
