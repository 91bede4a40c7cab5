"""hotline: signed, hash-chained lines between rival militaries."""

__version__ = "0.1.0"
