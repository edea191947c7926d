"""Sharded-cluster test support: a simulated mongos and throwaway sharded models."""
