"""What the MongoDB backend can do, declared once for Django and django-nonrel."""

import datetime
import sys

from django.db.backends.base.features import BaseDatabaseFeatures
from django.utils.functional import cached_property

from django_nonrel.features import NonrelFeatures
from django_nonrel.testing import existing_test_ids


class DatabaseFeatures(NonrelFeatures, BaseDatabaseFeatures):
    # -- django-nonrel flags (declared in django_nonrel.features) ---------------
    returns_structured_rows = True
    distinguishes_insert_from_update = False
    supports_nested_documents = True
    checks_not_null = True
    stores_unique_nulls_as_absent = True
    #: Keys one ``$in`` may carry (a 16 MB command holds ~500k small keys).
    max_keys_per_command = 50_000
    supports_shard_keys = True
    renders_migrations_offline = True
    guards_update_or_create = True

    # -- Django flags ----------------------------------------------------------
    minimum_database_version = (5, 0)
    # Commands in a transaction marked for rollback are refused (as on SQLite),
    # but the server does not abort the transaction itself (as PostgreSQL does).
    atomic_transactions = False
    can_rollback_ddl = False
    supports_foreign_keys = False
    can_create_inline_fk = False
    supports_column_check_constraints = False
    supports_table_check_constraints = False
    can_introspect_check_constraints = False
    can_introspect_foreign_keys = False
    # Django 6.1's database-level on_delete (DB_CASCADE, DB_SET_NULL, DB_SET_DEFAULT)
    # leaves the action to the server, and MongoDB has none: deleting a parent
    # would leave its children pointing at nothing. The system check fields.E324
    # says so at start-up; CASCADE/SET_NULL run as batched key-set cascades here.
    supports_on_delete_db_cascade = False
    supports_on_delete_db_default = False
    supports_on_delete_db_null = False
    can_introspect_default = False
    can_introspect_json_field = False
    supports_functions_in_partial_indexes = False
    supports_expression_indexes = False
    supports_covering_indexes = False
    supports_index_on_text_field = True
    supports_deferrable_unique_constraints = False
    supports_comments = False
    # Django 6.1's UUID4()/UUID7() are evaluated in Python (django_nonrel.expressions);
    # UUID7 needs uuid.uuid7 (Python 3.14).
    supports_uuid4_function = True
    supports_uuid7_function = supports_uuid7_function_shift = sys.version_info >= (3, 14)
    supports_collation_on_charfield = False
    supports_collation_on_textfield = False
    supports_non_deterministic_collations = False
    supports_stored_generated_columns = False
    supports_virtual_generated_columns = False
    # Evaluated on the client over each queryset's read (django_nonrel.combined_reads):
    # each queryset keeps its own ordering and slice.
    supports_select_union = True
    supports_select_intersection = True
    supports_select_difference = True
    supports_slicing_ordering_in_compound = True
    supports_subqueries_in_group_by = False
    # Window functions are computed in Python over the query's rows, with SQL's
    # partitions, peers, frames (ROWS/RANGE with offsets) and frame exclusions
    # (django_nonrel/windows.py, window_frames.py).
    supports_over_clause = True
    supports_frame_range_fixed_distance = True
    supports_frame_exclusion = True
    supports_aggregate_filter_clause = False
    # Django 6.1's general aggregates (flags unknown to 5.2, where they are inert):
    # AnyValue, BitAnd/BitOr/BitXor (default= too) and StringAgg with order_by= and
    # distinct=True are folded in Python (django_nonrel/aggregation/partials.py).
    supports_aggregate_order_by_clause = True
    supports_any_value = True
    supports_bit_aggregations = True
    supports_default_in_bit_aggregations = True
    supports_aggregate_distinct_multiple_argument = True
    supports_sequence_reset = True
    supports_timezones = False
    supports_json_field_contains = False
    has_native_json_field = True
    has_json_object_function = True  # JSONObject() is evaluated in Python (expressions.py)
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
    # True though no DEFAULT keyword is sent: the insert writer computes a
    # DatabaseDefault itself (django_nonrel.writes.insert_value). Saying False
    # makes Django 5.2's bulk_create replace it on every field of every object
    # first, a quarter of the client time of a wide bulk_create; Django 6.1
    # dropped that loop and leaves the objects as this does.
    supports_default_keyword_in_bulk_insert = True
    supports_expression_defaults = False
    requires_literal_defaults = True
    supports_primitives_in_json_field = True
    closed_cursor_error_class = Exception

    django_test_expected_failures: set[str] = set()
    #: Django test-suite ids this backend cannot pass yet, grouped by the reason.
    #: Regenerate the counts with: nox -s djangosuite-5.2 -- --backend mongodb --apps single-table
    common_django_test_skips: dict[str, set[str]] = {
        (
            "Runs SQL: connection.cursor(), raw(), QuerySet.extra() or RawSQL (SQL text "
            "naming columns); MongoDB runs no SQL. Use the ORM, or connection.database for "
            "raw MongoDB commands (NotSupportedError says so)."
        ): {
            "apps.tests.QueryPerformingAppTests.test_query_default_database_using_cursor",
            "apps.tests.QueryPerformingAppTests.test_query_many_default_database_using_cursor",
            "apps.tests.QueryPerformingAppTests.test_query_many_other_database_using_cursor",
            "apps.tests.QueryPerformingAppTests.test_query_other_database_using_cursor",
            "async.test_async_queryset.AsyncQuerySetTest.test_raw",
            "backends.base.test_base.ExecuteWrapperTests.test_database_queried",
            "backends.base.test_base.ExecuteWrapperTests.test_nested_wrapper_invoked",
            "backends.base.test_base.ExecuteWrapperTests.test_wrapper_connection_specific",
            "backends.base.test_base.ExecuteWrapperTests.test_wrapper_gets_sql",
            "backends.base.test_base.ExecuteWrapperTests.test_wrapper_invoked",
            "backends.base.test_base.ExecuteWrapperTests.test_wrapper_invoked_many",
            "backends.tests.BackendTestCase.test_cursor_executemany",
            "backends.tests.BackendTestCase.test_cursor_executemany_with_iterator",
            "backends.tests.BackendTestCase.test_queries",
            "backends.tests.BackendTestCase.test_queries_bare_where",
            "backends.tests.BackendTestCase.test_queries_limit",
            "backends.tests.BackendTestCase.test_queries_logger",
            "backends.tests.BackendTestCase.test_unicode_fetches",
            "backends.tests.LastExecutedQueryTest.test_last_executed_query_with_duplicate_params",
            "multiple_database.tests.QueryTestCase.test_raw",
            "test_utils.tests.AllowedDatabaseQueriesTests.test_allowed_database_copy_queries",
            "test_utils.tests.AssertNumQueriesUponConnectionTests.test_ignores_connection_configuration_queries",
            "timezones.tests.LegacyDatabaseTests.test_cursor_execute_accepts_naive_datetime",
            "timezones.tests.LegacyDatabaseTests.test_cursor_execute_returns_naive_datetime",
            "timezones.tests.LegacyDatabaseTests.test_raw_sql",
            "timezones.tests.NewDatabaseTests.test_cursor_execute_accepts_naive_datetime",
            "timezones.tests.NewDatabaseTests.test_cursor_execute_returns_naive_datetime",
            "timezones.tests.NewDatabaseTests.test_raw_sql",
            "model_fields.test_jsonfield.TestQuerying.test_in_json_whitespace",
            "model_fields.test_jsonfield.TestQuerying.test_key_transform_raw_expression",
            "model_fields.test_jsonfield.TestQuerying.test_nested_key_transform_raw_expression",
            "aggregation.tests.AggregateTestCase.test_coalesced_empty_result_set",
            "aggregation.tests.AggregateTestCase.test_exists_extra_where_with_aggregate",
            "queries.tests.Queries5Tests.test_ticket7256",
            "queries.test_query.TestQueryNoModel.test_rawsql_annotation",
            "queries.tests.Queries1Tests.test_order_by_rawsql",
            "queries.tests.Queries1Tests.test_tickets_7087_12242",
            "queries.tests.Queries1Tests.test_ticket2496",
            "queries.tests.Queries5Tests.test_ticket7045",
            "queries.tests.Queries5Tests.test_ordering",
            "queries.tests.Queries5Tests.test_ordering_with_extra",
            "many_to_one.tests.ManyToOneTests.test_joined_extra",
            "aggregation_regress.tests.AggregationTests.test_annotation",
            "aggregation_regress.tests.AggregationTests.test_more_more",
            "annotations.tests.NonAggregateAnnotationTestCase.test_raw_sql_with_inherited_field",
            "expressions.tests.BasicExpressionsTests.test_annotate_values_filter",
            "expressions.tests.BasicExpressionsTests.test_filtering_on_rawsql_that_is_boolean",
            "expressions.tests.BasicExpressionsTests.test_order_by_multiline_sql",
            "prefetch_related.tests.RawQuerySetTests",
            "basic.tests.ModelFromDbTests.test_old_signature_raw",
        },
        (
            "Relations whose join condition is not Django lookups on key columns: a "
            "get_extra_restriction() returning a class that only renders SQL "
            "(ColConstraint), or comparing columns of both tables with no key columns "
            "(StartsWith); this backend follows relations by key lookups and refuses them "
            "with NotSupportedError."
        ): {
            "foreign_object.tests.MultiColumnFKTests.test_translations",
            "foreign_object.tests.MultiColumnFKTests.test_inheritance",
            "foreign_object.tests.TestExtraJoinFilterQ.test_extra_join_filter_q",
            "foreign_object.test_empty_join.RestrictedConditionsTests."
            "test_restrictions_with_no_joining_columns",
        },
        (
            "Keys containing '.' or starting with '$' cannot be MongoDB paths; such lookups are "
            "refused."
        ): {
            "model_fields.test_jsonfield.TestQuerying.test_lookups_special_chars",
            "model_fields.test_jsonfield.TestQuerying.test_lookups_special_chars_double_quotes",
        },
        (
            "JSONField on MongoDB: a JSON null stored as the whole value is SQL NULL (BSON "
            "null, kept for existing data and other clients; JSON null under a key is "
            "distinct, see docs/mongodb.md)."
        ): {
            "model_fields.test_jsonfield.JSONNullTests.test_filter",
            "model_fields.test_jsonfield.TestSaveLoad.test_json_null_different_from_sql_null",
        },
        (
            "BSON dates keep milliseconds: a datetime or time saved with microseconds "
            "(these tests' values, or timezone.now()) reads back truncated to the "
            "millisecond, so comparisons with the value written differ (MongoDB's date "
            "type; the official backend stores them the same way)."
        ): {
            "basic.tests.ModelRefreshTests.test_refresh_unsaved",
            "basic.tests.ModelTest.test_microsecond_precision",
            "basic.tests.ModelRefreshTests.test_refresh_with_related",
            "db_functions.comparison.test_cast.CastTests.test_cast_from_db_datetime_to_time",
            "db_functions.comparison.test_greatest.GreatestTests.test_basic",
            "db_functions.comparison.test_greatest.GreatestTests.test_coalesce_workaround",
            "db_functions.comparison.test_least.LeastTests.test_basic",
            "db_functions.comparison.test_least.LeastTests.test_coalesce_workaround",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_extract_day_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_extract_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_extract_hour_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_extract_iso_weekday_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_extract_iso_year_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_extract_minute_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_extract_month_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_extract_quarter_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_extract_second_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_extract_week_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_extract_weekday_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_extract_year_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_trunc_date_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_trunc_day_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_trunc_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_trunc_hour_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_trunc_minute_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_trunc_month_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_trunc_quarter_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_trunc_second_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_trunc_time_comparison",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_trunc_time_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_trunc_week",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_trunc_week_before_1000",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_trunc_week_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_trunc_year_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_extract_day_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_extract_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_extract_hour_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_extract_iso_weekday_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_extract_iso_year_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_extract_minute_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_extract_month_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_extract_quarter_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_extract_second_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_extract_week_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_extract_weekday_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_extract_year_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_trunc_date_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_trunc_day_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_trunc_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_trunc_func_with_timezone",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_trunc_hour_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_trunc_minute_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_trunc_month_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_trunc_quarter_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_trunc_second_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_trunc_time_comparison",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_trunc_time_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_trunc_timezone_applied_before_truncation",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_trunc_week",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_trunc_week_before_1000",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_trunc_week_func",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_trunc_year_func",
            "timezones.tests.AdminTests.test_change_readonly",
            "timezones.tests.AdminTests.test_change_readonly_in_other_timezone",
            "timezones.tests.LegacyDatabaseTests.test_naive_datetime_with_microsecond",
            "timezones.tests.NewDatabaseTests.test_aware_datetime_in_local_timezone_with_microsecond",
            "timezones.tests.NewDatabaseTests.test_naive_datetime_with_microsecond",
            "expressions.tests.FTimeDeltaTests.test_negative_timedelta_update",
            "queries.tests.Queries4Tests.test_filter_reverse_non_integer_pk",
            "queryset_pickle.tests.PickleabilityTestCase.test_annotation_values",
        },
        (
            "DecimalField is stored as a double by default, as on Django's SQLite backend "
            "(OPTIONS['DECIMAL128'] for exact storage)."
        ): {
            "model_fields.test_decimalfield.DecimalFieldTests.test_large_integer_precision",
            "model_fields.test_decimalfield.DecimalFieldTests.test_large_integer_precision_aggregation",
            "model_fields.test_decimalfield.DecimalFieldTests.test_fetch_from_db_without_float_rounding",
        },
        (
            "A float cast to text reads as SQLite writes it ('3.0'), the reference this "
            "backend's Python evaluation is checked against; PostgreSQL and MySQL write '3'."
        ): {
            "aggregation.tests.AggregateTestCase.test_distinct_on_stringagg",
        },
        (
            "bulk_batch_size() is capped at max_keys_per_command (50,000 keys in one $in), "
            "which Django's key batches (in_bulk, deletion, bulk_update) rely on; the test "
            "expects no limit from a backend without max_query_params."
        ): {
            "backends.base.test_operations.DatabaseOperationTests.test_bulk_batch_size_unlimited",
        },
        "MongoDB enforces no CHECK constraints (PositiveIntegerField >= 0).": {
            "model_fields.test_integerfield.PositiveIntegerFieldTests.test_negative_values",
        },
        (
            "Sends fewer commands than Django's SQL: one upsert where Django sends an UPDATE "
            "and then an INSERT (force_insert over multi-table inheritance), one batched "
            "cascade read and delete where Django sends a query per batch of rows, nothing "
            "for a delete that matches no row or an aggregate over none()."
        ): {
            "aggregation.tests.AggregateTestCase.test_empty_result_optimization",
            "delete.tests.DeletionTests.test_bulk",
            "delete.tests.DeletionTests.test_large_delete",
            "delete.tests.DeletionTests.test_large_delete_related",
            "force_insert_update.tests.ForceInsertInheritanceTests.test_force_insert_diamond_mti",
            "force_insert_update.tests.ForceInsertInheritanceTests.test_force_insert_false",
            "force_insert_update.tests.ForceInsertInheritanceTests.test_force_insert_parent",
            "force_insert_update.tests.ForceInsertInheritanceTests.test_force_insert_with_existing_grandparent",
            "force_insert_update.tests.ForceInsertInheritanceTests.test_force_insert_with_grandparent",
        },
        (
            "Asserts the SQL text of a query (JOIN types and counts, GROUP BY, subquery "
            "wrapping, RETURNING, quoted column lists) or mocks the SQL cursor; "
            "str(queryset.query) and connection.queries show the MongoDB commands instead."
        ): {
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_extract_year_exact_lookup",
            "expressions_window.tests.WindowFunctionTests.test_filter_count",
            "queries.test_qs_combinators.QuerySetSetOperationTests.test_exists_union",
            "aggregation.tests.AggregateAnnotationPruningTests.test_referenced_window_requires_wrapping",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_extract_year_greaterthan_lookup",
            "db_functions.datetime.test_extract_trunc.DateFunctionTests.test_extract_year_lessthan_lookup",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_extract_year_exact_lookup",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_extract_year_greaterthan_lookup",
            "db_functions.datetime.test_extract_trunc.DateFunctionWithTimeZoneTests.test_extract_year_lessthan_lookup",
            "lookup.tests.LookupTests.test_exact_booleanfield",
            "lookup.tests.LookupTests.test_exact_booleanfield_annotation",
            "get_or_create.tests.UpdateOrCreateTests.test_update_only_defaults_and_pre_save_fields_when_local_fields",
            "lookup.tests.LookupTests.test_in_ignore_none",
            "lookup.tests.LookupTests.test_in_ignore_none_with_unhashable_items",
            "lookup.tests.LookupTests.test_in_keeps_value_ordering",
            "lookup.tests.LookupTests.test_textfield_exact_null",
            "model_fields.test_jsonfield.TestQuerying.test_key_sql_injection_escape",
            "ordering.tests.OrderingTests.test_order_by_f_expression_duplicates",
            "admin_changelist.tests.ChangeListTests.test_changelist_view_list_editable_changed_objects_uses_filter",
            "admin_changelist.tests.ChangeListTests.test_many_search_terms",
            "admin_views.test_actions.AdminActionsTest.test_model_admin_default_delete_action",
            "backends.tests.LastExecutedQueryTest.test_debug_sql",
            # Whole classes: every test asserts the SQL text (the name of a
            # custom lookup in it, JOIN promotion and demotion).
            "custom_lookups.tests.CustomisedMethodsTests",
            "custom_lookups.tests.CustomizedMethodsTests",
            "custom_lookups.tests.YearLteTests.test_custom_implementation_year_exact",
            "custom_lookups.tests.YearLteTests.test_postgres_year_exact",
            "custom_lookups.tests.YearLteTests.test_year_lte_sql",
            "delete.tests.DeletionTests.test_only_referenced_fields_selected",
            "generic_relations_regress.tests.GenericRelationTests.test_join_reuse",
            "lookup.tests.LookupTests.test_lookup_direct_value_rhs_unwrapped",
            "many_to_many.tests.ManyToManyQueryTests.test_count_join_optimization_disabled",
            "many_to_many.tests.ManyToManyQueryTests.test_exists_join_optimization_disabled",
            "model_forms.tests.ModelMultipleChoiceFieldTests.test_clean_does_deduplicate_values",
            "model_inheritance.tests.ModelInheritanceTests.test_create_child_no_update",
            "model_inheritance.tests.ModelInheritanceTests.test_inherited_ordering_pk_desc",
            "model_inheritance_regress.tests.ModelInheritanceTest.test_inheritance_joins",
            "prefetch_related.tests.PrefetchRelatedTests.test_m2m_then_m2m_object_ids",
            "prefetch_related.tests.PrefetchRelatedTests.test_m2m_then_reverse_fk_object_ids",
            "prefetch_related.tests.PrefetchRelatedTests.test_m2m_then_reverse_one_to_one_object_ids",
            "prefetch_related.test_prefetch_related_objects.PrefetchRelatedObjectsTests.test_foreignkey_reverse",
            "select_for_update.tests.SelectForUpdateTests.test_ordered_select_for_update",
            "select_related_regress.tests.SelectRelatedRegressTests.test_regression_7110",
            "auth_tests.test_management.CreatePermissionsMultipleDatabasesTests.test_set_permissions_fk_to_using_parameter",
            "aggregation.tests.AggregateTestCase.test_aggregation_subquery_annotation",
            "aggregation_regress.tests.AggregationTests.test_group_by_field_uniqueness",
            "many_to_one.tests.ManyToOneTests.test_selects",
            "many_to_one.tests.ManyToOneTests.test_joined_sql",
            "delete_regress.tests.DeleteTests.test_self_reference_with_through_m2m_at_second_level",
            "serializers.test_json.JsonSerializerTestCase.test_serialize_no_only_pk_with_natural_keys",
            "serializers.test_jsonl.JsonlSerializerTestCase.test_serialize_no_only_pk_with_natural_keys",
            "serializers.test_xml.XmlSerializerTestCase.test_serialize_no_only_pk_with_natural_keys",
            "serializers.test_yaml.YamlSerializerTestCase.test_serialize_no_only_pk_with_natural_keys",
            "aggregation.tests.AggregateAnnotationPruningTests.test_non_aggregate_annotation_pruned",
            "aggregation.tests.AggregateAnnotationPruningTests.test_referenced_aggregate_annotation_kept",
            "aggregation.tests.AggregateAnnotationPruningTests.test_referenced_composed_subquery_requires_wrapping",
            "aggregation.tests.AggregateAnnotationPruningTests.test_referenced_subquery_requires_wrapping",
            "aggregation.tests.AggregateAnnotationPruningTests.test_unreferenced_aggregate_annotation_pruned",
            "aggregation.tests.AggregateAnnotationPruningTests.test_unused_aliased_aggregate_pruned",
            "aggregation.tests.AggregateTestCase.test_add_implementation",
            "aggregation.tests.AggregateTestCase.test_count_star",
            "aggregation_regress.tests.AggregationTests.test_annotation_with_value",
            "aggregation_regress.tests.AggregationTests.test_reverse_join_trimming",
            "aggregation_regress.tests.JoinPromotionTests.test_existing_join_not_promoted",
            "aggregation_regress.tests.JoinPromotionTests.test_non_nullable_fk_not_promoted",
            "expressions.tests.BasicExpressionsTests.test_subquery_sql",
            "expressions.tests.BasicExpressionsTests.test_ticket_18375_chained_filters",
            "expressions.tests.BasicExpressionsTests.test_ticket_18375_join_reuse",
            "expressions.tests.BasicExpressionsTests.test_ticket_18375_kwarg_ordering",
            "expressions.tests.BasicExpressionsTests.test_ticket_18375_kwarg_ordering_2",
            "expressions.tests.ExistsTests.test_optimizations",
            "expressions_case.tests.CaseExpressionTests.test_m2m_reuse",
            "many_to_many.tests.ManyToManyTests.test_custom_default_manager_exists_count",
            "prefetch_related.tests.MultiTableInheritanceTest.test_child_link_prefetch",
            "select_related_regress.tests.SelectRelatedRegressTests.test_null_join_promotion",
            "queries.test_db_returning.ReturningValuesTests.test_insert_returning",
            "queries.test_db_returning.ReturningValuesTests.test_insert_returning_multiple",
            "queries.tests.DisjunctionPromotionTests",
            "queries.tests.ExcludeTests.test_exclude_m2m_through",
            "queries.tests.ExcludeTests.test_exclude_multivalued_exists",
            "queries.tests.ExistsSql.test_sliced_distinct_exists",
            "queries.tests.JoinReuseTest.test_fk_reuse",
            "queries.tests.JoinReuseTest.test_fk_reuse_annotation",
            "queries.tests.JoinReuseTest.test_fk_reuse_disjunction",
            "queries.tests.JoinReuseTest.test_fk_reuse_order_by",
            "queries.tests.JoinReuseTest.test_fk_reuse_select_related",
            "queries.tests.JoinReuseTest.test_revfk_noreuse",
            "queries.tests.JoinReuseTest.test_revo2o_reuse",
            "queries.tests.NullJoinPromotionOrTest.test_isnull_filter_promotion",
            "queries.tests.NullJoinPromotionOrTest.test_null_join_demotion",
            "queries.tests.NullJoinPromotionOrTest.test_ticket_17886",
            "queries.tests.NullJoinPromotionOrTest.test_ticket_21366",
            "queries.tests.NullJoinPromotionOrTest.test_ticket_21748_double_negated_and",
            "queries.tests.NullJoinPromotionOrTest.test_ticket_21748_double_negated_or",
            "queries.tests.NullableRelOrderingTests.test_join_already_in_query",
            "queries.tests.Queries1Tests.test_order_by_join_unref",
            "queries.tests.Queries1Tests.test_subquery_condition",
            "queries.tests.Queries1Tests.test_ticket_10790_1",
            "queries.tests.Queries1Tests.test_ticket_10790_2",
            "queries.tests.Queries1Tests.test_ticket_10790_3",
            "queries.tests.Queries1Tests.test_ticket_10790_4",
            "queries.tests.Queries1Tests.test_ticket_10790_5",
            "queries.tests.Queries1Tests.test_ticket_10790_6",
            "queries.tests.Queries1Tests.test_ticket_10790_7",
            "queries.tests.Queries1Tests.test_ticket_10790_combine",
            "queries.tests.Queries1Tests.test_ticket_20250",
            "queries.tests.Queries4Tests.test_combine_join_reuse",
            "queries.tests.Queries4Tests.test_order_by_resetting",
            "queries.tests.Queries6Tests.test_col_alias_quoted",
            "queries.tests.Queries6Tests.test_nested_queries_sql",
            "queries.tests.Queries6Tests.test_ticket_11320",
            "queries.tests.ReverseJoinTrimmingTest.test_reverse_trimming",
            "queries.tests.Ticket18785Tests.test_ticket_18785",
            "queries.tests.ValuesJoinPromotionTests",
            "queries.tests.Ticket20955Tests.test_ticket_20955",
        },
        (
            "Schema and migration tests that run SQL (RunSQL, raw INSERT/SELECT through "
            "connection.cursor() to inspect stored rows, CREATE VIEW, SQL templates given "
            "to schema_editor.execute()) or assert its text (CREATE TABLE among the "
            "captured queries, sqlmigrate output, deferred foreign-key statements); "
            "MongoDB runs no SQL: migrations use RunPython and connection.database."
        ): {
            "inspectdb.tests.InspectDBTransactionalTests.test_include_views",
            "introspection.tests.IntrospectionTests.test_django_table_names",
            "introspection.tests.IntrospectionTests.test_table_names_with_views",
            "migrations.test_commands.MigrateTests.test_migrate_plan",
            "migrations.test_commands.MigrateTests.test_migrate_syncdb_app_label",
            "migrations.test_commands.MigrateTests.test_migrate_syncdb_deferred_sql_executed_with_schemaeditor",
            "migrations.test_commands.MigrateTests.test_migrate_syncdb_installed_truncated_db_model",
            "migrations.test_commands.MigrateTests.test_sqlmigrate_backwards",
            "migrations.test_commands.MigrateTests.test_sqlmigrate_forwards",
            "migrations.test_multidb.MultiDBOperationTests.test_run_sql_migrate_foo_router_with_hints",
            "migrations.test_operations.OperationTests.test_alter_unique_together",
            "migrations.test_operations.OperationTests.test_rename_field_unique_together",
            "migrations.test_operations.OperationTests.test_run_sql",
            "migrations.test_operations.OperationTests.test_run_sql_add_missing_semicolon_on_collect_sql",
            "migrations.test_operations.OperationTests.test_run_sql_params",
            "migrations.test_operations.OperationTests.test_separate_database_and_state",
            "schema.test_logging.SchemaLoggerTests.test_extra_args",
            "schema.tests.SchemaTests.test_add_datefield_and_datetimefield_use_effective_default",
            "schema.tests.SchemaTests.test_add_field_default_dropped",
            "schema.tests.SchemaTests.test_add_field_default_nullable",
            "schema.tests.SchemaTests.test_add_field_default_transform",
            "schema.tests.SchemaTests.test_add_field_use_effective_default",
            "schema.tests.SchemaTests.test_add_textfield_default_nullable",
            "schema.tests.SchemaTests.test_m2m",
            "schema.tests.SchemaTests.test_m2m_custom",
            "schema.tests.SchemaTests.test_m2m_inherited",
            "schema.tests.SchemaTests.test_remove_constraints_capital_letters",
            "schema.tests.SchemaTests.test_rename_column_renames_deferred_sql_references",
            "schema.tests.SchemaTests.test_rename_table_renames_deferred_sql_references",
        },
        (
            "MongoDB creates a collection on first use: reading a collection that was "
            "dropped returns no rows instead of a 'no such table' error."
        ): {
            "schema.tests.SchemaTests.test_creation_deletion",
            "schema.tests.SchemaTests.test_creation_deletion_reserved_names",
        },
        (
            "MongoDB has no column defaults: a document inserted by code whose model "
            "does not declare a field lacks it (db_default applies to inserts through a "
            "model that declares it, and AddField writes it into existing documents)."
        ): {
            "migrations.test_operations.OperationTests.test_add_field_both_defaults",
        },
        (
            "Removing a CompositePrimaryKey makes Django fall back to an implicit key "
            "field; the schema editor is given the model as it was, so the documents' "
            "_id is not rewritten to that field (make a single field the key with "
            "AlterField first)."
        ): {
            "migrations.test_operations.OperationTests.test_composite_pk_operations",
        },
        (
            "Integer keys come from django-nonrel's counter for the model class that "
            "saves: after AlterField(AutoField -> IntegerField) the test's own model "
            "class still declares an AutoField, so its save gets a key instead of an error."
        ): {
            "schema.tests.SchemaTests.test_alter_auto_field_to_integer_field",
        },
        (
            "Runs SQL through connection.cursor() (parameter escaping, connection health checks "
            "with a query, a concurrent DELETE on a second connection); MongoDB runs no SQL. "
            "EscapingChecksDebug inherits the skip."
        ): {
            "backends.tests.EscapingChecks",
            "backends.base.test_base.ConnectionHealthChecksTests",
            "delete_regress.tests.DeleteLockingTest",
        },
        (
            "Django's database cache backend (DatabaseCache, createcachetable) runs SQL through "
            "connection.cursor(); MongoDB runs no SQL. DBCacheWithTimeZoneTests inherits the skip; "
            "createcachetable routed to a MongoDB database runs its CREATE TABLE and is refused."
        ): {
            "cache.tests.DBCacheTests",
            "cache.tests.CreateCacheTableForDBCacheTests.test_createcachetable_observes_database_router",
        },
    }

    @cached_property
    def supports_nested_arrays(self) -> bool:
        """Lists inside lists (ListField(ListField())); FerretDB v1 refuses them."""
        return not self.connection.server_info["ferretdb"]

    @cached_property
    def supports_regex_backreferencing(self) -> bool:
        """MongoDB's PCRE and mongomock's Python re have backreferences; FerretDB v1's does not."""
        return not self.connection.server_info["ferretdb"]

    @cached_property
    def regex_dialect(self) -> str:
        """The engine ``$regex`` runs on: mongomock's Python ``re``, FerretDB v1's Go RE2,
        MongoDB's PCRE. Generated patterns are anchored (and user patterns checked on
        mongomock) by it: backends/mongodb/filters.py."""
        if self.connection.is_embedded:
            return "python"
        return "re2" if self.connection.server_info["ferretdb"] else "pcre"

    @cached_property
    def sorts_nan_below_numbers(self) -> bool:
        """NaN doubles are stored and sort below every other number (after NULL), while
        every comparison but equality with NaN is false: MongoDB's rules, which
        bookmark pages follow (django_nonrel/pagination.py). FerretDB v1 stores no NaN."""
        return self.connection.is_embedded or not self.connection.server_info["ferretdb"]

    @property
    def supports_date_part_expressions(self) -> bool:
        """$expr with $month, $dayOfMonth, ... (month/day/hour lookups); FerretDB v1 lacks it.

        Those operators read a stored date as UTC: with a database TIME_ZONE other
        than UTC (stored values are local times there) the parts are taken in Python.
        A property, not cached: the database's TIME_ZONE can change at run time.
        """
        stored_in_utc = self.connection.timezone in (None, datetime.UTC)  # None: USE_TZ off
        return stored_in_utc and not self.connection.server_info["ferretdb"]

    @cached_property
    def supports_group_accumulators(self) -> bool:
        """$group with several accumulators, $min/$max/$addToSet and $cond in one stage.

        FerretDB v1 implements only $sum and $count, and answers 0 for every
        accumulator after the first in a stage; grouped aggregation there reads
        the projected rows and folds them in Python (still one command).
        """
        return not self.connection.server_info["ferretdb"]

    @cached_property
    def supports_set_accumulator(self) -> bool:
        """$addToSet keeps every value; mongomock's turns 0, False and "" into null
        (found by the differential tests), so Count/Sum(distinct=True) per group is
        folded in Python there."""
        return not self.connection.is_embedded

    @cached_property
    def supports_hashed_indexes(self) -> bool:
        """``{"field": "hashed"}`` indexes (a hashed ShardKey's); FerretDB v1 has none."""
        return not self.connection.server_info["ferretdb"]

    @cached_property
    def is_sharded_cluster(self) -> bool:
        """Connected to a ``mongos``: ShardKey migrations run ``shardCollection``."""
        return self.connection.server_info["sharded"]

    @cached_property
    def supports_partial_indexes(self) -> bool:
        """``partialFilterExpression``: MongoDB has it; FerretDB v1 refuses the option.
        mongomock's own build of a partial unique index checked every document
        (``embedded_indexes`` now fixes that; the flag stays off there for now)."""
        return not (self.connection.is_embedded or self.connection.server_info["ferretdb"])

    @cached_property
    def unique_indexes_skip_missing_keys(self) -> bool:
        """Whether a unique index over several keys skips a document missing one of
        them, as SQL's unique constraint skips a row with a NULL: FerretDB v1 indexes
        each key as its SQL backend's JSON extraction (``json->'key'``), NULL --
        distinct from every value -- where the key is missing. MongoDB and mongomock
        index a missing key as null: there a partial index skips those documents."""
        return self.connection.server_info["ferretdb"]

    @cached_property
    def supports_multi_document_transactions(self) -> bool:
        """Replica sets and sharded clusters have transactions; standalone servers do not."""
        return self.connection.server_info.get("transactions", False)

    @property
    def supports_transactions(self) -> bool:
        """Whether atomic() rolls back: a server transaction or the undo journal
        (``connection.atomicity``, from OPTIONS["TRANSACTIONS"], the server and
        whether this is a test database)."""
        from .atomicity import Atomicity

        return self.connection.atomicity is not Atomicity.NONE

    @property
    def uses_savepoints(self) -> bool:
        """Nested atomic() blocks are savepoints wherever atomic() rolls back (the
        undo journal serves them inside server transactions too)."""
        return self.supports_transactions

    @property
    def can_release_savepoints(self) -> bool:
        return self.supports_transactions

    #: Further Django test-suite ids that fail on FerretDB v1 only, by reason.
    ferretdb_django_test_skips: dict[str, set[str]] = {
        "FerretDB v1 does not store nested arrays (JSON lists inside lists).": {
            "model_fields.test_jsonfield.TestQuerying",
            "model_fields.test_jsonfield.TestSaveLoad.test_list",
            "model_fields.test_jsonfield.TestSaveLoad.test_realistic_object",
        },
        (
            "FerretDB v1's SQLite handler fails to create a collection whose name holds "
            "double quotes, such as Oracle-style quoted names; MongoDB and mongomock "
            "accept it."
        ): {
            "schema.tests.SchemaTests.test_alter_primary_key_quoted_db_table",
        },
    }

    @cached_property
    def django_test_skips(self) -> dict[str, set[str]]:
        """The skips for this server, keeping only tests this Django release has."""
        skips = dict(self.common_django_test_skips)
        if self.connection.server_info["ferretdb"]:
            skips.update(self.ferretdb_django_test_skips)
        return {reason: existing_test_ids(ids) for reason, ids in skips.items()}
