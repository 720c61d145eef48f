"""codetier: route each coding chore to the cheapest thing that does it well."""

__version__ = "0.1.0"
