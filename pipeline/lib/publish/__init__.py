"""Publish layer: archived editions, the `latest` switch, checks of what is published."""
