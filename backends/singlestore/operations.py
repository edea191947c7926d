"""SQL snippets and value conversion: Django's MySQL operations, with SingleStore's
differences where the singlestore dialect renders something else."""

from django.db.backends.mysql.operations import DatabaseOperations as MySQLOperations
from django.db.models.constants import OnConflict

from django_nonrel.leaves import STRING_LOOKUPS
from django_nonrel.operations import NonrelOperations


class DatabaseOperations(NonrelOperations, MySQLOperations):
    # django-nonrel's hooks (django_nonrel.operations) keep their defaults:
    # take_over_cascade is False, so deletes cascade by Django's collection
    # (SingleStore has no FOREIGN KEY constraints to cascade for it).
    compiler_module = "django_nonrel.backends.singlestore.compiler"

    cast_char_field_without_max_length = "char"

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        # No FOREIGN KEY constraints exist, so no FOREIGN_KEY_CHECKS toggling.
        if not tables:
            return []
        verb = ("TRUNCATE",) if reset_sequences else ("DELETE", "FROM")
        keywords = " ".join(style.SQL_KEYWORD(word) for word in verb)
        return [f"{keywords} {style.SQL_FIELD(self.quote_name(table))};" for table in tables]

    def sequence_reset_by_name_sql(self, style, sequences):
        if self.connection.is_singlestore:
            # SingleStore cannot set a table's AUTO_INCREMENT counter back
            # (TRUNCATE, used by flush with reset_sequences, does restart it).
            return []
        return super().sequence_reset_by_name_sql(style, sequences)

    def on_conflict_suffix_sql(self, fields, on_conflict, update_fields, unique_fields):
        if on_conflict == OnConflict.UPDATE and self.connection.is_singlestore:
            # SingleStore takes VALUES(col); not MySQL 8's row alias (AS new).
            assignments = ", ".join(
                f"{column} = VALUES({column})" for column in map(self.quote_name, update_fields)
            )
            return f"ON DUPLICATE KEY UPDATE {assignments}"
        return super().on_conflict_suffix_sql(fields, on_conflict, update_fields, unique_fields)

    def regex_lookup(self, lookup_type):
        if self.connection.is_singlestore:
            # SingleStore's RLIKE follows the column collation; BINARY makes it case-sensitive.
            if lookup_type == "regex":
                return "%s RLIKE BINARY %s"
            return "%s RLIKE %s"
        if lookup_type == "iregex" and self.connection.mysql_is_mariadb:
            # Django's MariaDB SQL leaves iregex to the collation, and values in
            # JSON columns (utf8mb4_bin) then match case-sensitively; PCRE's (?i)
            # makes it case-insensitive on every column.
            return "%s REGEXP CONCAT('(?i)', %s)"
        return super().regex_lookup(lookup_type)

    def lookup_cast(self, lookup_type, internal_type=None):
        if internal_type == "JSONField" and self.connection.is_singlestore:
            # JSON values compare as JSON text; pattern lookups need the unquoted string.
            if lookup_type in STRING_LOOKUPS:
                return "JSON_EXTRACT_STRING(%s)"
            return "%s"
        return super().lookup_cast(lookup_type, internal_type)
