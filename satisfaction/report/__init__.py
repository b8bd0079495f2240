"""The report: context assembly, SVG charts, and rendering to PDF, HTML, JSON and Excel."""
