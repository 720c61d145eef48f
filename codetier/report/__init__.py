"""Rendering the spend report: terminal (rich) and HTML with inline SVG."""
