package hops

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/h2pcap/h2pcap/internal/jsonrow"
	"github.com/h2pcap/h2pcap/model"
)

// PlaceSpilled returns the reference point's spilled rows (its Report's
// Spilled: the healthy connections its analysis forgot, each on a clean
// flow) with what Place adds to them: their points. Nothing else of a
// clean flow's row changes at Place (no placement, nothing stopped, a
// healthy verdict stays). reports are Place's, the reference's Report
// included (its listed rows: no spilled row is among them).
func (res *Result) PlaceSpilled(src model.RowSource, reports []*model.Report) model.RowSource {
	if src == nil {
		return nil
	}
	return &placedRows{src: src, res: res, reports: reports}
}

// placedRows is a reference point's spilled rows, given back with their
// points (model.RowSource).
type placedRows struct {
	src     model.RowSource
	res     *Result
	reports []*model.Report
}

func (p *placedRows) Len() int { return p.src.Len() }

// Rows gives each spilled row as the spill wrote it, its points added
// as the spill would write them (jsonrow.Encoder.AppendPoints: a spilled
// row has no placement nor stopped, which come after them), so that it
// is byte for byte what the row would have been had it stayed listed.
func (p *placedRows) Rows(fn func(stream int, row []byte) error) error {
	res := p.res
	ref := res.Reference
	rows := res.rowsOf(p.reports, p.reports[ref].Connections)
	type at struct{ stream, flow int }
	var idx []at
	for i := range res.order {
		if st := res.streamAt(i, ref); st >= 0 {
			idx = append(idx, at{st, i})
		}
	}
	slices.SortStableFunc(idx, func(a, b at) int { return cmp.Compare(a.stream, b.stream) })
	// The row's bytes are kept, its points put in: reading each row back
	// (goccy/go-json) and encoding it again took a second of the six of
	// four points of 50,000 connections in JSON.
	enc := jsonrow.New()
	var (
		out     []byte
		streams []int
	)
	return p.src.Rows(func(stream int, b []byte) error {
		k, ok := slices.BinarySearchFunc(idx, stream, func(e at, st int) int { return cmp.Compare(e.stream, st) })
		if !ok {
			return fn(stream, b)
		}
		streams = res.streamsInto(streams, idx[k].flow)
		var err error
		out, err = enc.AppendPoints(out[:0], b, "", res.points(streams, rows))
		if err != nil {
			return fmt.Errorf("spilled row of stream %d: %w", stream, err)
		}
		return fn(stream, out)
	})
}
