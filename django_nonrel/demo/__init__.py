"""``python -m django_nonrel demo``: a short, runnable tour of django-nonrel.

It configures Django in-process (no project needed), creates a few documents
with the nonrel fields, and prints each step beside the database commands it
sent, so what the ORM does on a document store is visible, not claimed.
"""
