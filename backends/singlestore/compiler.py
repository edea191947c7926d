"""SQL compilers: Django's MySQL compilers, with SingleStore SQL where it differs.

In the singlestore dialect an expression's ``as_singlestore()`` wins, and where
there is none its ``as_mysql()`` is used: SingleStore speaks MySQL's SQL except
where functions.py registers something else. In the mysql dialect the
connection's vendor is ``"mysql"`` and Django's own dispatch already does this.
"""

from django.db import NotSupportedError
from django.db.backends.mysql import compiler as mysql

from .table_storage import table_storage


class SingleStoreCompileMixin:
    def compile(self, node):
        if self.connection.vendor == "singlestore" and not hasattr(node, "as_singlestore"):
            vendor_impl = getattr(node, "as_mysql", None)
            if vendor_impl is not None:
                sql, params = vendor_impl(self, self.connection)
                return sql, params
        return super().compile(node)


class SQLCompiler(SingleStoreCompileMixin, mysql.SQLCompiler):
    def as_sql(self, with_limits=True, with_col_aliases=False):
        if self.query.select_for_update and self.connection.is_singlestore:
            self.refuse_columnstore_locking()
        return super().as_sql(with_limits, with_col_aliases)

    def refuse_columnstore_locking(self) -> None:
        """SingleStore runs SELECT ... FOR UPDATE on rowstore tables only."""
        storage = table_storage(self.query.model, self.connection.storage_settings)
        if storage.is_columnstore:
            raise NotSupportedError(
                f"select_for_update() on {self.query.model._meta.label}: SingleStore locks "
                f"rows of ROWSTORE tables only, and this table is {storage.label} (from "
                f"{storage.source}). Store it as ROWSTORE (or ROWSTORE REFERENCE), or use "
                "an optimistic check instead (a version column compared in update())."
            )


class SQLInsertCompiler(SingleStoreCompileMixin, mysql.SQLInsertCompiler):
    pass


class SQLDeleteCompiler(SingleStoreCompileMixin, mysql.SQLDeleteCompiler):
    pass


class SQLUpdateCompiler(SingleStoreCompileMixin, mysql.SQLUpdateCompiler):
    pass


class SQLAggregateCompiler(SingleStoreCompileMixin, mysql.SQLAggregateCompiler):
    pass
