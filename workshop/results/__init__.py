"""What leaves the event: exports (CSV, XLSX, JSON), the report and its PDF, and the importer."""
