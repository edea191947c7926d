"""Models shared by django-nonrel's own tests."""
