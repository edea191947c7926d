"""Aggregation without SQL: ``aggregate()``, ``count()``, ``annotate()`` and grouping.

- ``planner``: how each aggregate is computed (the plan, before any read);
- ``plain``: ``aggregate()``/``count()`` without grouping;
- ``grouped``: ``annotate()`` and ``values().annotate()`` (GROUP BY, HAVING);
- ``computed_groups``: grouping by expressions, related fields and values across
  multi-valued relations, computed per row;
- ``group_order``: ORDER BY and DISTINCT over grouped rows;
- ``over_rows``: aggregates over a subquery's rows (``annotate().aggregate()``);
- ``hops``: aggregates across relations, one command per relation hop;
- ``partials``: mergeable partial aggregates, the shape every store returns.

The package imports nothing itself: the store contract (``django_nonrel.store_contract``)
imports ``partials`` without loading the query machinery.
"""
