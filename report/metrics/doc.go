// Package metrics renders what a live capture finds as Prometheus metrics:
// the model.Notices the analysis gives, counted per server endpoint as they
// come, and the capture's own counters read at scrape time.
//
// It is a package of its own, not part of the CLI's wiring, because it
// decides what is shown and how (names, labels, buckets, the cap on label
// values), which is rendering as package report does for the final
// report; like report, it computes nothing about the connections itself.
package metrics
