"""Test helpers that are not fixtures: fake upstreams and spies."""
