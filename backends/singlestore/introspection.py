"""Introspection from information_schema (SingleStore and MariaDB/MySQL both have it).

Written against the driver's FIELD_TYPE codes (Django's MySQL introspection
imports mysqlclient's). No foreign keys are ever reported: none are created.
"""

from collections import namedtuple

from django.db.backends.base.introspection import BaseDatabaseIntrospection
from django.db.backends.base.introspection import FieldInfo as BaseFieldInfo
from django.db.backends.base.introspection import TableInfo as BaseTableInfo
from django.db.models import Index
from singlestoredb.mysql.constants import FIELD_TYPE

FieldInfo = namedtuple("FieldInfo", [*BaseFieldInfo._fields, "extra", "is_unsigned", "comment"])
TableInfo = namedtuple("TableInfo", [*BaseTableInfo._fields, "comment"])


class DatabaseIntrospection(BaseDatabaseIntrospection):
    data_types_reverse = {
        FIELD_TYPE.BLOB: "TextField",
        FIELD_TYPE.CHAR: "CharField",
        FIELD_TYPE.DECIMAL: "DecimalField",
        FIELD_TYPE.NEWDECIMAL: "DecimalField",
        FIELD_TYPE.DATE: "DateField",
        FIELD_TYPE.DATETIME: "DateTimeField",
        FIELD_TYPE.DOUBLE: "FloatField",
        FIELD_TYPE.FLOAT: "FloatField",
        FIELD_TYPE.INT24: "IntegerField",
        FIELD_TYPE.JSON: "JSONField",
        FIELD_TYPE.LONG: "IntegerField",
        FIELD_TYPE.LONGLONG: "BigIntegerField",
        FIELD_TYPE.SHORT: "SmallIntegerField",
        FIELD_TYPE.STRING: "CharField",
        FIELD_TYPE.TIME: "TimeField",
        FIELD_TYPE.TIMESTAMP: "DateTimeField",
        FIELD_TYPE.TINY: "IntegerField",
        FIELD_TYPE.TINY_BLOB: "TextField",
        FIELD_TYPE.MEDIUM_BLOB: "TextField",
        FIELD_TYPE.LONG_BLOB: "TextField",
        FIELD_TYPE.VAR_STRING: "CharField",
    }

    def get_field_type(self, data_type, description):
        field_type = super().get_field_type(data_type, description)
        if "auto_increment" in description.extra:
            if field_type == "IntegerField":
                return "AutoField"
            if field_type == "BigIntegerField":
                return "BigAutoField"
            if field_type == "SmallIntegerField":
                return "SmallAutoField"
        if description.is_unsigned:
            if field_type == "BigIntegerField":
                return "PositiveBigIntegerField"
            if field_type == "IntegerField":
                return "PositiveIntegerField"
            if field_type == "SmallIntegerField":
                return "PositiveSmallIntegerField"
        return field_type

    def get_table_list(self, cursor):
        cursor.execute(
            "SELECT table_name, table_type, table_comment FROM information_schema.tables "
            "WHERE table_schema = DATABASE()"
        )
        return [
            TableInfo(row[0], {"BASE TABLE": "t", "VIEW": "v"}.get(row[1], "t"), row[2] or None)
            for row in cursor.fetchall()
        ]

    def get_table_description(self, cursor, table_name):
        cursor.execute(
            "SELECT column_name, data_type, character_maximum_length, numeric_precision, "
            "numeric_scale, extra, column_default, collation_name, column_type, "
            "column_comment, is_nullable FROM information_schema.columns "
            "WHERE table_name = %s AND table_schema = DATABASE()",
            [table_name],
        )
        info = {row[0]: row for row in cursor.fetchall()}
        # A column in the table's own collation reports none (as Django's MySQL backend).
        cursor.execute(
            "SELECT table_collation FROM information_schema.tables "
            "WHERE table_schema = DATABASE() AND table_name = %s",
            [table_name],
        )
        found = cursor.fetchone()
        table_collation = found[0] if found else ""
        cursor.execute(f"SELECT * FROM {self.connection.ops.quote_name(table_name)} LIMIT 1")
        fields = []
        for line in cursor.description:
            row = info[line[0]]
            type_code = line[1]
            if row[1] == "json" or row[8] == "json":
                type_code = FIELD_TYPE.JSON
            fields.append(
                FieldInfo(
                    line[0],
                    type_code,
                    # Characters, as Django's MySQL backend reports them (inspectdb's
                    # max_length); the driver's own sizes are in bytes.
                    row[2] or line[2],
                    line[3],
                    row[3] or line[4],
                    row[4] if row[4] is not None else line[5],
                    row[10] == "YES",
                    row[6],
                    row[7] if row[7] != table_collation else None,
                    row[5] or "",
                    "unsigned" in (row[8] or ""),
                    row[9] or None,
                )
            )
        return fields

    def get_sequences(self, cursor, table_name, table_fields=()):
        for field_info in self.get_table_description(cursor, table_name):
            if "auto_increment" in field_info.extra:
                return [{"table": table_name, "column": field_info.name}]
        return []

    def get_relations(self, cursor, table_name):
        # No FOREIGN KEY constraints exist on this backend.
        return {}

    def get_constraints(self, cursor, table_name):
        cursor.execute(
            "SELECT index_name, column_name, non_unique, seq_in_index, index_type, collation "
            "FROM information_schema.statistics "
            "WHERE table_schema = DATABASE() AND table_name = %s "
            "ORDER BY index_name, seq_in_index",
            [table_name],
        )
        constraints = {}
        for name, column, non_unique, _, index_type, order in cursor.fetchall():
            if name not in constraints:
                constraints[name] = {
                    "columns": [],
                    "primary_key": name == "PRIMARY",
                    "unique": not int(non_unique),
                    "index": True,
                    "check": False,
                    "foreign_key": None,
                    "orders": [],
                    "type": Index.suffix if index_type == "BTREE" else index_type.lower(),
                }
            constraints[name]["columns"].append(column)
            constraints[name]["orders"].append("DESC" if order == "D" else "ASC")
        return constraints
