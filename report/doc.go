// Package report renders an analyze.Report: terminal tables, Markdown for
// incident reviews, and JSON (the versioned contract). It only formats;
// every number it shows was computed by package analyze.
package report
