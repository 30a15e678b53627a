// Package report renders a model.Report: terminal tables, Markdown for
// incident reviews (with its pictures as SVG files when asked), the HTML
// incident-review page (one self-contained file: html.go, pictures.go)
// and JSON (the versioned contract). It only formats: every number and
// sentence it shows was computed by the analysis, and it imports package
// model, nothing of analyze (its tests do, to render lab captures).
package report
