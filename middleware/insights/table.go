package insights

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-databases/databases/internal/sanitize"
	"github.com/go-databases/databases/middleware"
)

// The index from query text to summary is bounded like the tracing
// middleware's cache: by the number of texts, by the bytes of text, and by
// the length of a text worth keeping. Past a bound it starts over; a longer
// text is summarised at every run.
const (
	maxIndexed      = 4096
	maxIndexedBytes = 4 << 20
	maxIndexedLen   = 16 << 10
)

// entry is what is kept of one query summary. Every counter is atomic, so
// that recording a run takes no lock.
type entry struct {
	summary   string
	sample    string // the sanitised text of one run, for N+1 reports
	firstSeen time.Time
	// weight is the total time of the entry this one replaced (space
	// saving): it ranks the entry for eviction with its own total, so that
	// a query that keeps coming back is not evicted every time before it
	// could add up. It is not part of the entry's total.
	weight int64

	calls, errors  atomic.Uint64
	totalNs, maxNs atomic.Int64
	returned       atomic.Int64
	affected       atomic.Int64
	lastSeen       atomic.Int64 // Unix nanoseconds
	nPlusOne       atomic.Uint64
	evicted        atomic.Bool
	hist           histogram

	mu      sync.Mutex
	classes map[string]uint64 // errors by class
}

// add records one run.
func (e *entry) add(now time.Time, d time.Duration, returned, affected int64, err error) {
	e.calls.Add(1)
	e.totalNs.Add(int64(d))
	if int64(d) > e.maxNs.Load() {
		for {
			m := e.maxNs.Load()
			if int64(d) <= m || e.maxNs.CompareAndSwap(m, int64(d)) {
				break
			}
		}
	}
	e.hist.record(d)
	if returned > 0 {
		e.returned.Add(returned)
	}
	if affected > 0 {
		e.affected.Add(affected)
	}
	e.lastSeen.Store(now.UnixNano())
	if err != nil {
		e.errors.Add(1)
		class := errorClass(err)
		e.mu.Lock()
		if e.classes == nil {
			e.classes = map[string]uint64{}
		}
		if _, ok := e.classes[class]; ok || len(e.classes) < maxClasses {
			e.classes[class]++
		} else {
			e.classes["other"]++
		}
		e.mu.Unlock()
	}
}

// maxClasses bounds the error classes kept per query.
const maxClasses = 16

// table holds the entries, at most max of them, and the index from query
// text to entry.
type table struct {
	max int

	// index maps a query's text to its entry; last is the entry found
	// last, so that a query run again and again is found without hashing.
	index   sync.Map // string → *indexed
	last    atomic.Pointer[indexed]
	size    atomic.Int32
	bytes   atomic.Int64
	mu      sync.Mutex
	entries map[string]*entry // by summary
	floor   int64             // the weight new entries inherit (see entry)

	evicted, evictedCalls atomic.Uint64
	nPlusOne              atomic.Uint64

	dbs []middleware.Database // the databases queries ran on, at most maxDatabases; under mu
}

// maxDatabases bounds the databases a table remembers for the page's title.
const maxDatabases = 8

// indexed pairs a query text with its entry.
type indexed struct {
	text string
	e    *entry
}

func (t *table) init(max int) {
	t.max = max
	t.entries = make(map[string]*entry, min(max, 1024))
}

// lookup returns the entry of query text q run on db, creating it (and
// evicting another) when its summary is new.
func (t *table) lookup(db *middleware.Database, q string) *entry {
	if l := t.last.Load(); l != nil && l.text == q && !l.e.evicted.Load() {
		return l.e
	}
	if v, ok := t.index.Load(q); ok {
		l := v.(*indexed)
		if !l.e.evicted.Load() {
			t.last.Store(l)
			return l.e
		}
	}
	if db == nil {
		db = &middleware.Database{}
	}
	d := sanitize.Dialect(db.Dialect)
	summary := Summarize(d, db.SQLMode, q)
	e := t.entry(summary, db, func() string { return sample(sanitize.Query(d, db.SQLMode, q)) })
	if len(q) <= maxIndexedLen {
		if t.size.Add(1) > maxIndexed || t.bytes.Add(int64(len(q))) > maxIndexedBytes {
			t.index.Clear()
			t.size.Store(1)
			t.bytes.Store(int64(len(q)))
		}
		l := &indexed{q, e}
		t.index.Store(q, l)
		t.last.Store(l)
	}
	return e
}

// sample returns the text kept for N+1 reports: cut like a summary, and
// copied, so that it does not keep a caller's larger string alive.
func sample(text string) string {
	return strings.Clone(cut(text, false))
}

// entry returns the entry of summary, creating it when there is none.
// When the table is full, the lightest tenth of the entries by weight (own
// total time plus what was inherited) is evicted in one pass, and every
// entry created from then on inherits the weight of the heaviest one
// evicted. It is the space-saving algorithm (Metwally, Agrawal and El
// Abbadi), weighted by time and evicting in batches so that a flood of
// distinct queries costs one sort per tenth of the table rather than a scan
// per query: the queries whose total time is the largest stay, and a query
// that keeps coming back soon outweighs the ones that ran once.
func (t *table) entry(summary string, db *middleware.Database, sampleText func() string) *entry {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.noteDatabase(db)
	if e, ok := t.entries[summary]; ok {
		return e
	}
	if len(t.entries) >= t.max {
		t.evict()
	}
	e := &entry{summary: summary, sample: sampleText(), firstSeen: time.Now(), weight: t.floor}
	t.entries[summary] = e
	return e
}

// noteDatabase remembers db, when it is new and there is room, for the
// page's title. It runs when a query text is new, never on the path of a
// query seen before. Under t.mu.
func (t *table) noteDatabase(db *middleware.Database) {
	if db.Dialect == "" || len(t.dbs) >= maxDatabases {
		return
	}
	for _, d := range t.dbs {
		if d.Dialect == db.Dialect && d.Namespace == db.Namespace && d.Address == db.Address && d.Port == db.Port {
			return
		}
	}
	t.dbs = append(t.dbs, middleware.Database{Dialect: db.Dialect, Namespace: db.Namespace, Address: db.Address, Port: db.Port, Replica: db.Replica})
}

// databases returns the databases noted, in the order first seen.
func (t *table) databases() []middleware.Database {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.dbs)
}

// evict removes the lightest tenth of the entries (at least one) and
// raises the floor new entries inherit to the heaviest of them.
func (t *table) evict() {
	type weighed struct {
		e *entry
		w int64
	}
	all := make([]weighed, 0, len(t.entries))
	for _, e := range t.entries {
		all = append(all, weighed{e, e.weight + e.totalNs.Load()})
	}
	slices.SortFunc(all, func(a, b weighed) int { return cmp.Compare(a.w, b.w) })
	n := max(len(all)/10, 1)
	for _, v := range all[:n] {
		delete(t.entries, v.e.summary)
		v.e.evicted.Store(true)
		t.evictedCalls.Add(v.e.calls.Load())
	}
	t.evicted.Add(uint64(n))
	t.floor = max(t.floor, all[n-1].w)
}

// Query is what is kept of one query summary.
type Query struct {
	// Summary is the query with its literals and placeholders written '?'
	// (see Summarize).
	Summary string
	Calls   uint64
	Errors  uint64
	// ErrorsByClass counts the errors by class: the database's code (a
	// PostgreSQL SQLSTATE, a MySQL error number, a SQLite result code) when
	// it gave one, otherwise the kind of error such as
	// context.DeadlineExceeded or the Go type of the error.
	ErrorsByClass map[string]uint64
	// Total is the time of all runs; a query's run lasts until its rows
	// are closed.
	Total, Mean, P50, P95, P99, Max time.Duration
	RowsReturned                    int64 // rows read by queries
	RowsAffected                    int64 // rows changed by execs
	FirstSeen, LastSeen             time.Time
	// NPlusOne counts the scopes in which this query was reported as N+1.
	NPlusOne uint64
	// Histogram counts the runs by latency, in buckets of about 1/8 of a
	// power of two: Histogram[i] runs took from HistogramBounds(i) lo up
	// to hi.
	Histogram []uint64
}

// HistogramBounds returns the range of latencies [lo, hi) that bucket i of
// Query.Histogram counts.
func HistogramBounds(i int) (lo, hi time.Duration) {
	l, h := bucketBounds(i)
	return time.Duration(l), time.Duration(h)
}

// query reads e.
func (e *entry) query() Query {
	q := Query{
		Summary:      e.summary,
		Calls:        e.calls.Load(),
		Errors:       e.errors.Load(),
		Total:        time.Duration(e.totalNs.Load()),
		Max:          time.Duration(e.maxNs.Load()),
		RowsReturned: e.returned.Load(),
		RowsAffected: e.affected.Load(),
		FirstSeen:    e.firstSeen,
		LastSeen:     time.Unix(0, e.lastSeen.Load()),
		NPlusOne:     e.nPlusOne.Load(),
		Histogram:    e.hist.snapshot(),
	}
	if q.Calls > 0 {
		q.Mean = q.Total / time.Duration(q.Calls)
	}
	q.P50 = quantile(q.Histogram, 0.50, q.Max)
	q.P95 = quantile(q.Histogram, 0.95, q.Max)
	q.P99 = quantile(q.Histogram, 0.99, q.Max)
	e.mu.Lock()
	if len(e.classes) > 0 {
		q.ErrorsByClass = maps.Clone(e.classes)
	}
	e.mu.Unlock()
	return q
}

// queries returns every entry, by total time, the longest first.
func (t *table) queries() []Query {
	t.mu.Lock()
	entries := slices.Collect(maps.Values(t.entries))
	t.mu.Unlock()
	out := make([]Query, 0, len(entries))
	for _, e := range entries {
		if e.calls.Load() > 0 {
			out = append(out, e.query())
		}
	}
	slices.SortFunc(out, func(a, b Query) int {
		return cmp.Or(cmp.Compare(b.Total, a.Total), cmp.Compare(a.Summary, b.Summary))
	})
	return out
}

func (t *table) stats() Stats {
	t.mu.Lock()
	n := len(t.entries)
	t.mu.Unlock()
	return Stats{MaxQueries: t.max, Queries: n, Evicted: t.evicted.Load(), EvictedCalls: t.evictedCalls.Load(), NPlusOne: t.nPlusOne.Load()}
}
