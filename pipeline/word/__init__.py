"""The documents: the render context, prepared Word templates, the report and certificate, charts,
QR codes, PDFs by LibreOffice, template checks. Imports core and the base (docs/architecture.md)."""
