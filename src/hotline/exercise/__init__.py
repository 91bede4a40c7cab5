"""Exercises: scenarios played against running nodes, the demo, after-action reports."""
