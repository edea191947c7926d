"""Aggregation without SQL: ``aggregate()``, ``count()``, ``annotate()`` and grouping.

- ``planner``: how each aggregate is computed (the plan, before any read);
- ``plain``: ``aggregate()``/``count()`` without grouping;
- ``grouped``: ``annotate()`` and ``values().annotate()`` (GROUP BY, HAVING);
- ``hops``: aggregates across relations, one command per relation hop;
- ``partials``: mergeable partial aggregates, the shape every store returns.

The package imports nothing itself: the store contract (``django_nonrel.store_contract``)
imports ``partials`` without loading the query machinery.
"""
