package hops

import (
	"cmp"
	"fmt"
	"math"
	"reflect"
	"slices"
	"time"

	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/internal/jsonrow"
	"github.com/h2pcap/h2pcap/model"
)

// The connections the reference point never saw. Several points are
// not always one path: each etcd member's capture holds its connections
// to the others, and the reference member sees none of the two others'
// with each other; several nodes' captures each hold their own. Each
// such connection is listed once, as the point first along its
// client->server path of those that saw it judged it (homeOf), with
// its points and placement from that point (model.Connection.Point),
// and the summary counts it: a report of
// the reference point's rows alone called "All 5 connections healthy"
// 22 captures of which another held 8 connections with capture drops,
// and left out of an etcd leader change every heartbeat between the two
// members the reference was not.

// awayFlow is a connection the reference point never saw: its index in
// Result.order and its streams, -1 at a point where that stream is also
// filed under a connection the reference saw (a capture whose times run
// backwards files one stream under two): that point's row is the
// reference's to list.
type awayFlow struct {
	flow    int
	streams []int
}

// away returns the connections the reference point never saw (awayFlow),
// made once.
func (res *Result) away() []awayFlow {
	if res.awayDone {
		return res.awayFlows
	}
	res.awayDone = true
	var out []awayFlow
	for i := range res.order {
		if res.streamAt(i, res.Reference) < 0 {
			out = append(out, awayFlow{flow: i, streams: res.streamsInto(nil, i)})
		}
	}
	if len(out) == 0 {
		return nil
	}
	mine := make([]map[int]bool, len(res.Names)) // their streams, per point
	for _, a := range out {
		for p, st := range a.streams {
			if st >= 0 {
				if mine[p] == nil {
					mine[p] = map[int]bool{}
				}
				mine[p][st] = true
			}
		}
	}
	shared := make([]map[int]bool, len(res.Names)) // ... also the reference's
	var streams []int
	for i := range res.order {
		if res.streamAt(i, res.Reference) < 0 {
			continue
		}
		streams = res.streamsInto(streams, i)
		for p, st := range streams {
			if st >= 0 && mine[p][st] {
				if shared[p] == nil {
					shared[p] = map[int]bool{}
				}
				shared[p][st] = true
			}
		}
	}
	for _, a := range out {
		for p, st := range a.streams {
			if st >= 0 && shared[p][st] {
				a.streams[p] = -1
			}
		}
	}
	res.awayFlows = out
	return out
}

// Elsewhere returns, per point, the streams there of the connections the
// reference point never saw (nil for the reference): the rows whose
// facts a point's Report keeps for Place (KeepFacts).
func (res *Result) Elsewhere() []map[int]bool {
	out := make([]map[int]bool, len(res.Names))
	for _, a := range res.away() {
		for p, st := range a.streams {
			if st < 0 || p == res.Reference {
				continue
			}
			if out[p] == nil {
				out[p] = map[int]bool{}
			}
			out[p][st] = true
		}
	}
	return out
}

// KeepFacts is the verdict.Placer of the Report of a point other than
// the reference: it keeps in *into the facts of its rows of want
// (Elsewhere's streams at that point), which the reference point's
// summary reads when it lists them.
func KeepFacts(want map[int]bool, into *map[int]*verdict.Facts) verdict.Placer {
	return func(conns []*model.Connection, facts []*verdict.Facts) ([]verdict.Extra, *verdict.Forgotten) {
		for i, c := range conns {
			if !want[c.Stream] || i >= len(facts) || facts[i] == nil {
				continue
			}
			if *into == nil {
				*into = map[int]*verdict.Facts{}
			}
			(*into)[c.Stream] = facts[i].Clone()
		}
		return nil, nil
	}
}

// homeOf returns the point, other than the reference, whose row of
// connection f (streams: its streams, awayFlow's) the report lists: of
// those that have one, the first along its client->server path, as the
// reference point is the first along most connections' (ties, and
// points off its path, in the points' order); and whether that row is
// listed in its Report (else forgotten there). -1 if none has a row (a
// probe: counted apart).
func (res *Result) homeOf(f *FlowResult, streams []int, rows []pointRows) (home int, listed bool) {
	home, at := -1, 0
	var buf []byte
	for p, st := range streams {
		if st < 0 || p == res.Reference {
			continue
		}
		buf = f.appendSender0(buf[:0], p)
		found, client := rows[p].clientIs(st, buf)
		if !found {
			continue
		}
		d := 0 // f's direction 0 is client->server when its sender is the client
		if !client {
			d = 1
		}
		k := slices.Index(f.Path[d], p)
		if k < 0 {
			k = len(res.Names) + p
		}
		if home < 0 || k < at {
			home, at = p, k
		}
	}
	return home, home >= 0 && rows[home].listed[streams[home]] != nil
}

// forgottenConn is a Forgotten that gives what the summary reads of a
// forgotten connection (analyze.ForgottenRows).
type forgottenConn interface {
	Conn(stream int) (verdict.ForgottenConn, bool)
}

// placeElsewhere is Place's second half: the rows of the connections the
// reference point never saw, each placed from its home point (homeOf),
// in the points' order and each point's stream order, with its facts
// there (facts[pt], KeepFacts'); and those forgotten at their home
// point, counted in the Forgotten returned (nil: none), listed if their
// point spilled its rows (JSON: SpilledElsewhere gives them).
func (res *Result) placeElsewhere(rows []pointRows, reports []*model.Report, facts []map[int]*verdict.Facts) ([]verdict.Extra, *verdict.Forgotten) {
	type homed struct{ pt, stream, flow int }
	var held, gone []homed
	seen := map[[2]int]bool{} // a stream filed under two flows is listed once
	for _, a := range res.away() {
		pt, listed := res.homeOf(res.Flow(a.flow), a.streams, rows)
		if pt < 0 || seen[[2]int{pt, a.streams[pt]}] {
			continue
		}
		seen[[2]int{pt, a.streams[pt]}] = true
		if listed {
			held = append(held, homed{pt, a.streams[pt], a.flow})
		} else {
			gone = append(gone, homed{pt, a.streams[pt], a.flow})
		}
	}
	byPoint := func(a, b homed) int {
		if c := cmp.Compare(a.pt, b.pt); c != 0 {
			return c
		}
		return cmp.Compare(a.stream, b.stream)
	}
	slices.SortFunc(held, byPoint)
	slices.SortFunc(gone, byPoint)
	var out []verdict.Extra
	done := map[uintptr]bool{}
	for _, h := range held {
		row := rows[h.pt].listed[h.stream]
		// On the reference point's clock, as the summary compares
		// them with its rows (an etcd election's time with the last
		// heartbeats before it); its points and placement, added
		// next, keep each point's own times, as every row's do.
		shiftTimes(reflect.ValueOf(row), res.toReference(h.pt), done)
		f := res.Flow(h.flow)
		dir0 := model.ClientToServer
		if f.Sender0[h.pt] != row.Client {
			dir0 = model.ServerToClient
		}
		res.placeRow(row, f, rows, dir0, h.pt)
		row.Point = res.Names[h.pt]
		var fs *verdict.Facts
		if h.pt < len(facts) {
			fs = facts[h.pt][h.stream]
		}
		out = append(out, verdict.Extra{Row: row, Facts: fs})
	}
	var fg *verdict.Forgotten
	for _, h := range gone {
		fc, ok := rows[h.pt].forgotten.(forgottenConn)
		if !ok {
			continue
		}
		c, ok := fc.Conn(h.stream)
		if !ok {
			continue
		}
		if fg == nil {
			fg = &verdict.Forgotten{}
		}
		// Its times stay its point's: a point forgets a connection it
		// alone saw only in one box's capture split by interface
		// (Placer.SeenOnly), whose points share one clock.
		fg.AddConn(&c, reports[h.pt].Spilled != nil)
	}
	return out, fg
}

// SpilledElsewhere gives, per point other than the reference whose
// Report spilled rows (JSON), the spilled rows of the connections the
// reference point never saw and that point is the home of (homeOf), with
// their point and points added as they are written: the rows the
// summary counted listed (placeElsewhere). reports are every point's.
func (res *Result) SpilledElsewhere(reports []*model.Report) []model.PointRows {
	rows := res.rowsOf(reports, reports[res.Reference].Connections)
	at := make([]map[int]int, len(res.Names)) // per point: stream -> flow
	for _, a := range res.away() {
		pt, listed := res.homeOf(res.Flow(a.flow), a.streams, rows)
		if pt < 0 || listed || reports[pt].Spilled == nil {
			continue
		}
		if at[pt] == nil {
			at[pt] = map[int]int{}
		}
		if _, ok := at[pt][a.streams[pt]]; !ok {
			at[pt][a.streams[pt]] = a.flow
		}
	}
	var out []model.PointRows
	for pt, flows := range at {
		if flows != nil {
			out = append(out, model.PointRows{Point: res.Names[pt], Rows: &elsewhereRows{res: res, pt: pt, flows: flows, rows: rows, src: reports[pt].Spilled}})
		}
	}
	return out
}

// elsewhereRows is point pt's spilled rows of the connections flows
// (stream -> flow) the reference point never saw, given back with their
// point and points (model.RowSource).
type elsewhereRows struct {
	res   *Result
	pt    int
	flows map[int]int
	rows  []pointRows
	src   model.RowSource
}

func (e *elsewhereRows) Len() int { return len(e.flows) }

func (e *elsewhereRows) Rows(fn func(stream int, row []byte) error) error {
	enc := jsonrow.New()
	var (
		out     []byte
		streams []int
	)
	name := e.res.Names[e.pt]
	// Its times are its point's, which shares the reference's clock
	// (placeElsewhere).
	return e.src.Rows(func(stream int, b []byte) error {
		i, ok := e.flows[stream]
		if !ok {
			return nil
		}
		streams = e.res.streamsInto(streams, i)
		var err error
		out, err = enc.AppendPoints(out[:0], b, name, e.res.points(streams, e.rows))
		if err != nil {
			return fmt.Errorf("%s's spilled row of stream %d: %w", name, stream, err)
		}
		return fn(stream, out)
	})
}

// toReference is what moves a time of point pt's capture onto the
// reference point's clock: minus pt's clock offset (OffsetMs), 0 where
// it is not known or the two share a clock (Clocks).
func (res *Result) toReference(pt int) time.Duration {
	if pt >= len(res.OffsetMs) || res.OffsetMs[pt] == nil || pt == res.Reference {
		return 0
	}
	if max(pt, res.Reference) < len(res.Clocks) && res.Clocks[pt] == res.Clocks[res.Reference] {
		return 0
	}
	return -time.Duration(math.Round(*res.OffsetMs[pt] * float64(time.Millisecond)))
}

var timeType = reflect.TypeFor[time.Time]()

// shiftTimes moves every non-zero time.Time that v holds, through
// pointers, structs, slices and maps of pointers, by d; done holds the
// addresses of those moved already (rows that share a slice or a
// pointer move its times once).
func shiftTimes(v reflect.Value, d time.Duration, done map[uintptr]bool) {
	if d == 0 {
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			shiftTimes(v.Elem(), d, done)
		}
	case reflect.Struct:
		if v.Type() == timeType {
			if !v.CanAddr() || !v.CanSet() {
				return
			}
			if a := v.Addr().Pointer(); !done[a] {
				done[a] = true
				if t := v.Interface().(time.Time); !t.IsZero() {
					v.Set(reflect.ValueOf(t.Add(d)))
				}
			}
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				shiftTimes(v.Field(i), d, done)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			shiftTimes(v.Index(i), d, done)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if e := it.Value(); e.Kind() == reflect.Pointer {
				shiftTimes(e, d, done)
			}
		}
	}
}
