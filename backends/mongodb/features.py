"""What the MongoDB backend can do, declared once for Django and django-nonrel."""

from django.db.backends.base.features import BaseDatabaseFeatures
from django.utils.functional import cached_property


class DatabaseFeatures(BaseDatabaseFeatures):
    # -- django-nonrel flags (read by the patches and fields) -------------------
    returns_structured_rows = True
    distinguishes_insert_from_update = False
    supports_nested_documents = True
    checks_not_null = True
    stores_unique_nulls_as_absent = True
    #: Keys one ``$in`` may carry (a 16 MB command holds ~500k small keys).
    max_keys_per_command = 50_000

    # -- Django flags ----------------------------------------------------------
    minimum_database_version = (5, 0)
    supports_transactions = False
    uses_savepoints = False
    atomic_transactions = False
    can_rollback_ddl = False
    supports_foreign_keys = False
    can_create_inline_fk = False
    indexes_foreign_keys = False
    supports_column_check_constraints = False
    supports_table_check_constraints = False
    can_introspect_check_constraints = False
    can_introspect_foreign_keys = False
    can_introspect_default = False
    can_introspect_json_field = False
    supports_partial_indexes = False
    supports_functions_in_partial_indexes = False
    supports_expression_indexes = False
    supports_covering_indexes = False
    supports_index_on_text_field = True
    supports_deferrable_unique_constraints = False
    supports_comments = False
    supports_collation_on_charfield = False
    supports_collation_on_textfield = False
    supports_non_deterministic_collations = False
    supports_stored_generated_columns = False
    supports_virtual_generated_columns = False
    supports_select_union = False
    supports_select_intersection = False
    supports_select_difference = False
    supports_slicing_ordering_in_compound = False
    supports_subqueries_in_group_by = False
    supports_over_clause = False
    supports_aggregate_filter_clause = False
    supports_sequence_reset = True
    supports_timezones = False
    supports_json_field_contains = False
    has_native_json_field = True
    has_json_object_function = False
    supports_boolean_expr_in_select_clause = False
    supports_comparing_boolean_expr = False
    supports_tuple_lookups = False
    supports_unlimited_charfield = True
    supports_ignore_conflicts = True
    supports_update_conflicts = False
    supports_update_conflicts_with_target = False
    can_return_columns_from_insert = True
    can_return_rows_from_bulk_insert = True
    can_defer_constraint_checks = False
    has_select_for_update = False
    allows_group_by_selected_pks = False
    has_case_insensitive_like = False
    supports_regex_backreferencing = True
    supports_date_lookup_using_string = False
    supports_temporal_subtraction = False
    test_db_allows_multiple_connections = True
    related_fields_match_type = False
    allow_sliced_subqueries_with_in = True
    supports_forward_references = True
    supports_cast_with_precision = False
    time_cast_precision = 6
    nulls_order_largest = False
    supports_order_by_nulls_modifier = False
    order_by_nulls_first = True
    supports_paramstyle_pyformat = False
    supports_default_keyword_in_insert = False
    supports_default_keyword_in_bulk_insert = False
    supports_expression_defaults = False
    requires_literal_defaults = True
    supports_primitives_in_json_field = True
    closed_cursor_error_class = Exception

    #: Django test-suite entries this backend cannot pass, with the reason.
    django_test_expected_failures: set[str] = set()
    django_test_skips: dict[str, set[str]] = {}

    @cached_property
    def supports_nested_arrays(self) -> bool:
        """Lists inside lists (ListField(ListField())); FerretDB v1 refuses them."""
        return not self.connection.server_info["ferretdb"]

    @cached_property
    def supports_multi_document_transactions(self) -> bool:
        """Replica sets and sharded clusters have transactions; standalone servers do not."""
        return self.connection.server_info.get("transactions", False)
