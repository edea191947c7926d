"""Tests of the SingleStore backend that need no server (DDL, rules, SQL)."""
