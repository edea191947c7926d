"""What exists in the database: collections, indexes, integer-key sequences."""

from django.db.backends.base.introspection import BaseDatabaseIntrospection, TableInfo

from .mongo_store import KEY_CLAIMS, SEQUENCES


class DatabaseIntrospection(BaseDatabaseIntrospection):
    def get_table_list(self, cursor):
        names = self.connection.database.list_collection_names()
        return [
            TableInfo(name, "t")
            for name in sorted(names)
            if name not in (SEQUENCES, KEY_CLAIMS) and not name.startswith("system.")
        ]

    def get_sequences(self, cursor, table_name, table_fields=()):
        auto = [
            f
            for f in table_fields
            if f.get_internal_type() in ("AutoField", "BigAutoField", "SmallAutoField")
        ]
        if table_fields:
            return [{"table": table_name, "column": f.column} for f in auto]
        return [{"table": table_name, "column": "id"}]

    def get_constraints(self, cursor, table_name):
        constraints = {}
        indexes = self.connection.database[table_name].index_information()
        for name, info in indexes.items():
            columns = [key for key, _ in info["key"]]
            constraints[name] = {
                "columns": columns,
                "orders": ["DESC" if order == -1 else "ASC" for _, order in info["key"]],
                "primary_key": name == "_id_",
                "unique": name == "_id_" or bool(info.get("unique")),
                "foreign_key": None,
                "check": False,
                "index": True,
                "type": "idx",
                "definition": None,
                "options": None,
            }
        return constraints
