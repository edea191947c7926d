"""SQL compilers: Django's MySQL compilers, with SingleStore SQL where it differs.

In the singlestore dialect an expression's ``as_singlestore()`` wins, and where
there is none its ``as_mysql()`` is used: SingleStore speaks MySQL's SQL except
where functions.py registers something else. In the mysql dialect the
connection's vendor is ``"mysql"`` and Django's own dispatch already does this.
"""

from django.db.backends.mysql import compiler as mysql


class SingleStoreCompileMixin:
    def compile(self, node):
        if self.connection.vendor == "singlestore" and not hasattr(node, "as_singlestore"):
            vendor_impl = getattr(node, "as_mysql", None)
            if vendor_impl is not None:
                sql, params = vendor_impl(self, self.connection)
                return sql, params
        return super().compile(node)


class SQLCompiler(SingleStoreCompileMixin, mysql.SQLCompiler):
    pass


class SQLInsertCompiler(SingleStoreCompileMixin, mysql.SQLInsertCompiler):
    pass


class SQLDeleteCompiler(SingleStoreCompileMixin, mysql.SQLDeleteCompiler):
    pass


class SQLUpdateCompiler(SingleStoreCompileMixin, mysql.SQLUpdateCompiler):
    pass


class SQLAggregateCompiler(SingleStoreCompileMixin, mysql.SQLAggregateCompiler):
    pass
