// Package report renders a model.Report: terminal tables, Markdown for
// incident reviews, and JSON (the versioned contract). It only formats:
// every number and sentence it shows was computed by the analysis, and it
// imports package model, nothing of analyze.
package report
