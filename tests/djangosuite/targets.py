"""The backend targets and the sets of Django test apps the harness runs on them.

Kept free of Django imports: the noxfile reads it in nox's own interpreter.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

#: Set by the harness from ``--mongodb-uri``; wins over the variables below.
MONGODB_URI_OVERRIDE = "NONREL_DJANGOSUITE_MONGODB_URI"
#: Where the MongoDB target connects, in order of preference.
MONGODB_URI_SOURCES = (MONGODB_URI_OVERRIDE, "NONREL_TEST_FERRETDB_URI", "MONGODB_URI")
MONGOMOCK_URI = "mongomock://localhost"

# The Django test apps the official MongoDB backend (mongodb/django-mongodb-backend) runs
# in its CI: the ``test_apps`` list of its .github/workflows/runtests.py, read at commit
# 0313ed046a49930faf61659292235220ea2a0751 (146 Django apps; the list also appends that
# project's own test directories, which are not Django's and are left out here; GIS apps
# only run there when GDAL is installed and are left out too). Every app is present in
# the tests/ of Django 5.2.19 and 6.1.3. That project runs them on a patched fork of
# Django; here they run unmodified, with integer AutoField.
_MONGODB_OFFICIAL_APPS = """
    admin_changelist admin_checks admin_custom_urls admin_docs admin_filters admin_inlines
    admin_ordering admin_scripts admin_utils admin_views admin_widgets aggregation
    aggregation_regress annotations apps async auth_tests backends basic bulk_create cache
    check_framework constraints contenttypes_tests context_processors custom_columns
    custom_lookups custom_managers custom_pk datatypes dates datetimes db_functions defer
    defer_regress delete delete_regress empty empty_models expressions expressions_case
    expressions_window field_defaults file_storage file_uploads fixtures
    fixtures_model_package fixtures_regress flatpages_tests force_insert_update
    foreign_object forms_tests from_db_value generic_inline_admin generic_relations
    generic_relations_regress generic_views get_earliest_or_latest get_object_or_404
    get_or_create i18n indexes inline_formsets introspection invalid_models_tests
    known_related_objects lookup m2m_and_m2o m2m_intermediary m2m_multiple m2m_recursive
    m2m_regress m2m_signals m2m_through m2m_through_regress m2o_recursive managers_regress
    many_to_many many_to_one many_to_one_null max_lengths messages_tests migrate_signals
    migration_test_data_persistence migrations model_fields model_forms model_formsets
    model_formsets_regress model_indexes model_inheritance model_inheritance_regress
    model_options model_package model_regress model_utils modeladmin multiple_database
    mutually_referential nested_foreign_keys null_fk null_fk_ordering null_queries
    one_to_one or_lookups order_with_respect_to ordering pagination prefetch_related
    proxy_model_inheritance proxy_models queries queryset_pickle redirects_tests
    reserved_names reverse_lookup save_delete_hooks schema select_for_update select_related
    select_related_onetoone select_related_regress serializers servers sessions_tests
    shortcuts signals sitemaps_tests sites_framework sites_tests string_lookup
    swappable_models syndication_tests test_client test_client_regress test_runner
    test_utils timezones transactions unmanaged_models update update_only_fields
    user_commands validation view_tests xor_lookups
"""

APP_SETS = {
    # Apps whose results the overlay must leave unchanged on stock SQLite.
    "core": (
        "basic",
        "lookup",
        "queries",
        "model_fields",
        "delete",
        "save_delete_hooks",
        "update",
        "get_or_create",
        "bulk_create",
        "custom_pk",
        "many_to_one",
        "one_to_one",
        "ordering",
        "expressions",
    ),
    # Apps whose models live in one table each: the MongoDB backend's first yardstick.
    "mongodb-single-table": (
        "basic",
        "lookup",
        "ordering",
        "update",
        "get_or_create",
        "bulk_create",
        "custom_pk",
        "save_delete_hooks",
        "model_fields",
    ),
    "mongodb-official": tuple(_MONGODB_OFFICIAL_APPS.split()),
}


@dataclass(frozen=True)
class Target:
    """A backend configuration Django's tests run against."""

    name: str
    settings: str
    description: str
    default_apps: str

    @property
    def needs_mongodb(self) -> bool:
        return self.settings.endswith("_mongodb")

    @property
    def needs_mariadb(self) -> bool:
        return self.settings.endswith("_singlestore")


TARGETS = {
    target.name: target
    for target in (
        Target(
            "sqlite",
            "tests.djangosuite.settings_sqlite",
            "stock Django on SQLite, no django-nonrel patch: the baseline",
            "core",
        ),
        Target(
            "sqlite_overlay",
            "tests.djangosuite.settings_sqlite_overlay",
            "stock SQLite with every django-nonrel patch applied",
            "core",
        ),
        Target(
            "mongodb",
            "tests.djangosuite.settings_mongodb",
            "django_nonrel.backends.mongodb",
            "mongodb-single-table",
        ),
        Target(
            "singlestore",
            "tests.djangosuite.settings_singlestore",
            "django_nonrel.backends.singlestore, mysql dialect, on MariaDB",
            "core",
        ),
    )
}
#: The pair whose results must be identical: that is what the overlay promises.
OVERLAY_PAIR = ("sqlite", "sqlite_overlay")


def expand_apps(names: list[str]) -> list[str]:
    """App labels from labels and set names, in order, without repeats."""
    apps: list[str] = []
    for name in names:
        for app in APP_SETS.get(name, (name,)):
            if app not in apps:
                apps.append(app)
    return apps


def mongodb_uri() -> str:
    """The URI the MongoDB target connects to (mongomock when no server is given)."""
    for variable in MONGODB_URI_SOURCES:
        if os.environ.get(variable):
            return os.environ[variable]
    return MONGOMOCK_URI


def mongodb_server() -> str:
    """What ``mongodb_uri()`` points at, for reports (never the URI: it may hold a password)."""
    for variable in MONGODB_URI_SOURCES:
        uri = os.environ.get(variable)
        if uri:
            if uri.startswith("mongomock://"):
                return "mongomock (in process)"
            if variable == "NONREL_TEST_FERRETDB_URI":
                return "FerretDB (NONREL_TEST_FERRETDB_URI)"
            if variable == "MONGODB_URI":
                return "MongoDB server (MONGODB_URI)"
            return "server given by --mongodb-uri"
    return "mongomock (in process)"
