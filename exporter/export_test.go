package exporter

// MaxExportBytes is maxExportBytes, for the tests of package exporter_test.
const MaxExportBytes = maxExportBytes
