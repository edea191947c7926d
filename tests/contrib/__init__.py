"""Django's contrib apps, unmodified, on every tier: the admin driven through the test client."""
