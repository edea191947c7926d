"""An app whose models break the sharding rules, installed only by the test that checks it."""
