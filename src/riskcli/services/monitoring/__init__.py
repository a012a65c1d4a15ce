"""Continuous monitoring: rules over the store, alerts with a lifecycle, locked atomic runs."""
