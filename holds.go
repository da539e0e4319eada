package databases

// Holds: the rows and transactions that keep a pooled connection out of the
// pool, each tracked from the call that opened it to its Close, Commit or
// Rollback. With the option leak_threshold (WithLeakThreshold) each also
// keeps the call site in the caller's code; one still open past the
// threshold is reported once (a WARN record, an event on the caller's span,
// a counter) and again, at INFO, when it ends; and when a caller had to
// wait for a connection while every one was in use, one WARN record says
// what holds each. The holds also feed the insights page's Connections
// table and the db.client.connection.use_time histogram. database/sql
// tells a driver nothing of its pool, so a connection in a single Exec or
// held by a sql.Conn alone is not seen here.
//
// Without any of these options nothing is tracked: the hooks in conn.go
// and stmt.go test one nil pointer. (leak.go is another concern: a raw
// transaction that must not reach the next user of a connection.)

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/dbconv"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-databases/databases/internal/dsn"
	"github.com/go-databases/databases/middleware/insights"
	"github.com/go-databases/databases/middleware/tracing"
)

// WithLeakThreshold reports rows not closed and transactions not ended
// within d, naming the line of the caller's code that opened them, like the
// URL option leak_threshold (which wins over it); 0 turns it off. See
// docs/leaks.md.
func WithLeakThreshold(d time.Duration) Option {
	return func(o *options) { o.leakThreshold = max(d, 0) }
}

// EventLeak is the name of the span event of a leak report, on the span of
// the context the rows or transaction were opened with.
const EventLeak = "databases.leak"

// MetricLeaks is the name of the counter of leak reports, with the
// attribute databases.leak.kind (rows or transaction) and db.system.name.
const MetricLeaks = "databases.leaks"

// callDepth bounds the frames kept of a call site: database/sql's and the
// package's own come first, about ten of them.
const callDepth = 24

// holdKind says what holds a connection.
type holdKind uint8

const (
	holdRows holdKind = iota + 1
	holdTx
)

func (k holdKind) String() string {
	if k == holdTx {
		return "transaction"
	}
	return "rows"
}

// hold is one open rows or transaction. Its fields are set as it opens,
// but for those marked as guarded by holds.mu.
type hold struct {
	h          *holds
	prev, next *hold // in h's list while open; nil once ended (h.mu)
	kind       holdKind
	owner      bool // it alone holds the connection: a transaction, or rows outside one
	connID     uint64
	server     *dsn.Server
	start      time.Time
	span       trace.Span // the caller's, when it was recording
	npc        int
	pcs        [callDepth]uintptr // where it was opened, when call sites are captured
	query      string             // rows: the query; transaction: the last query run in it (h.mu)
	reported   bool               // reported as a leak (h.mu)
}

// heldRows are rows with their hold, in one allocation: the hold is what
// closing the rows closes after them (rows.after).
type heldRows struct {
	rows
	hold hold
}

// heldTx is a transaction with its hold.
type heldTx struct {
	driver.Tx
	conn *conn
	hold hold
}

var _ driver.Tx = (*heldTx)(nil)

// holds are the open holds of a connector's connections.
type holds struct {
	c         *connector
	threshold time.Duration // 0: track without reports (insights, use_time)
	leaks     metric.Int64Counter
	useTime   dbconv.ClientConnectionUseTime // without a MeterProvider: none (nil histogram)
	useSet    attribute.Set

	mu       sync.Mutex
	list     hold // the sentinel of the list of open holds
	watching bool // a watcher goroutine runs
	closed   bool
	db       *sql.DB // a DB from Open: its pool is watched
	lastWait int64   // its WaitCount at the last check
	lastPool time.Time
}

// newHolds returns the holds of c, or nil when no option needs them.
func newHolds(c *connector) *holds {
	h := &holds{c: c, threshold: c.opts.leakThreshold}
	if c.cfg.LeakSet { // the URL wins, off included
		h.threshold = c.cfg.LeakThreshold
	}
	useTime := c.opts.meterProvider != nil && c.opts.poolNames == PoolMetricsSemconv
	if h.threshold == 0 && c.opts.insights == nil && !useTime {
		return nil
	}
	h.list.next, h.list.prev = &h.list, &h.list
	if h.threshold > 0 {
		mp := c.opts.meterProvider
		if mp == nil {
			mp = otel.GetMeterProvider()
		}
		h.leaks = newLeakCounter(mp)
	}
	if useTime {
		h.useTime, h.useSet = c.newUseTime()
	}
	if c.opts.insights != nil {
		c.opts.insights.SetPool(h.pool)
	}
	return h
}

// newLeakCounter creates the counter of leak reports. An error goes to the
// global OpenTelemetry error handler and leaves a counter that counts
// nothing.
func newLeakCounter(mp metric.MeterProvider) metric.Int64Counter {
	m := mp.Meter("github.com/go-databases/databases")
	c, err := m.Int64Counter(MetricLeaks, metric.WithUnit("{leak}"),
		metric.WithDescription("Rows not closed and transactions not ended within the leak threshold, once each."))
	if err != nil || c == nil {
		otel.Handle(err)
		c, _ = noop.Meter{}.Int64Counter(MetricLeaks)
	}
	return c
}

// held tracks the rows a query of c returned (conn.go, stmt.go).
func (c *conn) held(ctx context.Context, query string, r driver.Rows, err error) (driver.Rows, error) {
	h := c.connector.holds
	if h == nil || err != nil {
		return r, err
	}
	x := &heldRows{rows: rows{raw: r}}
	x.after = &x.hold
	if c.txHold != nil {
		c.txHold.ran(query)
	}
	h.open(ctx, &x.hold, c, holdRows, query)
	return wrapRows(&x.rows, c.rowsInterfaces(r)), nil
}

// heldTx tracks the transaction BeginTx returned (conn.go).
func (c *conn) heldTx(ctx context.Context, t driver.Tx, err error) (driver.Tx, error) {
	h := c.connector.holds
	if h == nil || err != nil {
		return t, err
	}
	x := &heldTx{Tx: t, conn: c}
	h.open(ctx, &x.hold, c, holdTx, "")
	c.txHold = &x.hold
	return x, nil
}

func (t *heldTx) Commit() error {
	err := t.Tx.Commit()
	t.end()
	return err
}

func (t *heldTx) Rollback() error {
	err := t.Tx.Rollback()
	t.end()
	return err
}

func (t *heldTx) end() {
	if t.conn.txHold == &t.hold {
		t.conn.txHold = nil
	}
	t.hold.Close()
}

// ran notes query as the last one run in the transaction x.
func (x *hold) ran(query string) {
	x.h.mu.Lock()
	x.query = query
	x.h.mu.Unlock()
}

// open starts tracking x, a hold of c opened by the caller of ctx.
func (h *holds) open(ctx context.Context, x *hold, c *conn, kind holdKind, query string) {
	x.h, x.kind, x.connID, x.server, x.query = h, kind, c.id, c.server, query
	x.owner = kind == holdTx || c.txHold == nil
	if h.threshold > 0 {
		x.npc = runtime.Callers(3, x.pcs[:])
		if span := trace.SpanFromContext(ctx); span.IsRecording() {
			x.span = span
		}
	}
	x.start = time.Now()
	h.mu.Lock()
	x.prev, x.next = h.list.prev, &h.list
	x.prev.next, h.list.prev = x, x
	if h.threshold > 0 && !h.watching && !h.closed {
		h.watching = true
		go h.watch()
	}
	h.mu.Unlock()
}

// Close ends x: the rows closed or the transaction ended. A hold reported
// as a leak is reported again, at INFO, with how long it was held.
func (x *hold) Close() error {
	h := x.h
	h.mu.Lock()
	if x.next == nil {
		h.mu.Unlock()
		return nil
	}
	x.prev.next, x.next.prev = x.next, x.prev
	x.prev, x.next = nil, nil
	reported := x.reported
	h.mu.Unlock()
	if !reported && (!x.owner || h.useTime.Float64Histogram == nil) {
		return nil
	}
	held := time.Since(x.start)
	if x.owner && h.useTime.Float64Histogram != nil {
		h.useTime.RecordSet(context.Background(), held.Seconds(), h.useSet)
	}
	if reported {
		site := x.site()
		h.logger().LogAttrs(context.Background(), slog.LevelInfo, "databases: leak ended: "+x.kind.String()+" held "+held.Round(time.Millisecond).String(),
			slog.String("opened_at", site.at()), slog.Duration("held", held), slog.Uint64("conn", x.connID))
	}
	return nil
}

// site is a call site: where in the caller's code a hold was opened.
type site struct {
	file     string
	line     int
	function string
}

// at is the site as file:line; "" when unknown.
func (s site) at() string {
	if s.file == "" {
		return ""
	}
	return s.file + ":" + strconv.Itoa(s.line)
}

// ownPackage is the import path of this package: its frames, and those of
// its packages (middleware), are not a caller's, but for its tests'.
var ownPackage = reflect.TypeFor[hold]().PkgPath()

// site finds the first frame of x's call stack that is the caller's: past
// the runtime's, database/sql's and this module's own.
func (x *hold) site() site {
	if x.npc == 0 {
		return site{}
	}
	frames := runtime.CallersFrames(x.pcs[:x.npc])
	for {
		f, more := frames.Next()
		own := strings.HasPrefix(f.Function, "runtime.") || strings.HasPrefix(f.Function, "database/sql.") ||
			(strings.HasPrefix(f.Function, ownPackage+".") || strings.HasPrefix(f.Function, ownPackage+"/")) && !strings.HasSuffix(f.File, "_test.go")
		if !own && f.Function != "" {
			return site{file: f.File, line: f.Line, function: f.Function}
		}
		if !more {
			return site{}
		}
	}
}

// logger is where reports go: WithLogger's logger, or slog.Default() at
// the time of the record.
func (h *holds) logger() *slog.Logger {
	if h.c.opts.logging != nil && h.c.opts.logging.logger != nil {
		return h.c.opts.logging.logger
	}
	return slog.Default()
}

// summary is the summary of query as the insights page shows it.
func (h *holds) summary(query string) string {
	if query == "" {
		return ""
	}
	return insights.Summarize(h.c.backend.scanDialect(), h.c.cfg.MySQLMode, query)
}

// tick is how often the watcher looks at the holds: often enough that a
// leak is reported soon after the threshold, seldom enough to cost nothing.
func (h *holds) tick() time.Duration {
	return min(max(h.threshold/4, 10*time.Millisecond), time.Second)
}

// watch reports leaks and a pool that ran dry while there are holds, then
// returns; the next hold opened starts it again.
func (h *holds) watch() {
	t := time.NewTicker(h.tick())
	defer t.Stop()
	for now := range t.C {
		if !h.check(now) {
			return
		}
	}
}

// snapshot is what a report needs of a hold, copied under h.mu.
type snapshot struct {
	x     *hold // for its fixed fields only
	query string
}

// check reports the holds that have passed the threshold since the last
// check, and the holders of the pool when a caller waited for it. It
// returns false, and the watcher stops, when there is nothing left to
// watch.
func (h *holds) check(now time.Time) bool {
	h.mu.Lock()
	db := h.db
	h.mu.Unlock()
	var st sql.DBStats
	if db != nil {
		st = db.Stats() // outside h.mu: it takes the DB's lock
	}

	var late []snapshot
	var holders []insights.Connection
	h.mu.Lock()
	if h.closed || h.list.next == &h.list {
		h.watching = false
		h.mu.Unlock()
		return false
	}
	for x := h.list.next; x != &h.list; x = x.next {
		if !x.reported && now.Sub(x.start) >= h.threshold {
			x.reported = true
			late = append(late, snapshot{x: x, query: x.query})
		}
	}
	dry := db != nil && st.WaitCount > h.lastWait && st.MaxOpenConnections > 0 && st.InUse >= st.MaxOpenConnections &&
		now.Sub(h.lastPool) >= h.threshold
	if db != nil {
		h.lastWait = st.WaitCount
	}
	if dry {
		h.lastPool = now
		holders = h.connectionsLocked()
	}
	h.mu.Unlock()

	for _, s := range late {
		h.reportLeak(now, s)
	}
	if dry {
		h.reportPool(st, holders)
	}
	return true
}

// reportLeak reports the hold of s as a leak: a WARN record, an event on
// the caller's span, a count.
func (h *holds) reportLeak(now time.Time, s snapshot) {
	x := s.x
	held := now.Sub(x.start)
	where := x.site()
	summary := h.summary(s.query)
	kind := x.kind.String()
	verb := "closed"
	if x.kind == holdTx {
		verb = "ended"
	}
	h.logger().LogAttrs(context.Background(), slog.LevelWarn,
		"databases: leak: "+kind+" not "+verb+" within leak_threshold "+h.threshold.String(),
		slog.String("opened_at", where.at()), slog.String("function", where.function),
		slog.Duration("held", held), slog.String("query", summary),
		slog.Uint64("conn", x.connID), slog.String("server", serverName(x.server)))
	system := tracing.SystemName(h.c.cfg.Dialect.Name)
	if x.span != nil {
		attrs := []attribute.KeyValue{attribute.String("databases.leak.kind", kind), attribute.Float64("databases.leak.held_s", held.Seconds()),
			attribute.Int64("databases.conn.id", int64(x.connID)), system}
		if where.file != "" {
			attrs = append(attrs, semconv.CodeFilePath(where.file), semconv.CodeLineNumber(where.line), semconv.CodeFunctionName(where.function))
		}
		if summary != "" {
			attrs = append(attrs, semconv.DBQuerySummary(summary))
		}
		x.span.AddEvent(EventLeak, trace.WithAttributes(attrs...))
	}
	h.leaks.Add(context.Background(), 1, metric.WithAttributes(attribute.String("databases.leak.kind", kind), system))
}

// reportPool reports that a caller waited for a connection while the pool
// was full, with what holds each connection in use.
func (h *holds) reportPool(st sql.DBStats, holders []insights.Connection) {
	now := time.Now()
	attrs := []slog.Attr{
		slog.Int("in_use", st.InUse), slog.Int("max_open_conns", st.MaxOpenConnections),
		slog.Int64("wait_count", st.WaitCount), slog.Duration("wait_duration", st.WaitDuration),
	}
	for _, c := range holders {
		attrs = append(attrs, slog.Group("conn_"+strconv.FormatUint(c.ID, 10),
			slog.String("opened_at", c.OpenedAt), slog.Duration("held", now.Sub(c.Since)),
			slog.Bool("in_tx", c.InTx), slog.String("query", c.Query), slog.String("server", c.Server)))
	}
	if other := st.InUse - len(holders); other > 0 {
		attrs = append(attrs, slog.Int("in_use_without_rows_or_tx", other))
	}
	h.logger().LogAttrs(context.Background(), slog.LevelWarn,
		fmt.Sprintf("databases: pool ran dry: a caller waited for a connection while all %d were in use; %d held by rows or a transaction, listed by connection",
			st.MaxOpenConnections, len(holders)), attrs...)
}

// connectionsLocked groups the open holds by connection, the longest held
// first: since the oldest hold, opened where that one was, in a
// transaction if one is open, and the last query.
func (h *holds) connectionsLocked() []insights.Connection {
	type conn struct {
		c      insights.Connection
		oldest *hold
		latest time.Time
	}
	var byID []conn
	for x := h.list.next; x != &h.list; x = x.next {
		k := slices.IndexFunc(byID, func(c conn) bool { return c.c.ID == x.connID })
		if k < 0 {
			byID = append(byID, conn{c: insights.Connection{ID: x.connID, Server: serverName(x.server), Since: x.start}, oldest: x})
			k = len(byID) - 1
		}
		c := &byID[k]
		if x.start.Before(c.c.Since) {
			c.c.Since, c.oldest = x.start, x
		}
		if x.kind == holdTx { // its last query is the connection's
			c.c.InTx, c.c.Query = true, x.query
		} else if !c.c.InTx && !x.start.Before(c.latest) {
			c.c.Query, c.latest = x.query, x.start
		}
	}
	out := make([]insights.Connection, len(byID))
	for k, c := range byID {
		c.c.OpenedAt = c.oldest.site().at()
		c.c.Query = h.summary(c.c.Query)
		out[k] = c.c
	}
	slices.SortFunc(out, func(a, b insights.Connection) int { return cmp.Compare(a.Since.UnixNano(), b.Since.UnixNano()) })
	return out
}

// pool is the source of the insights page's Connections table.
func (h *holds) pool() insights.Pool {
	h.mu.Lock()
	db := h.db
	conns := h.connectionsLocked()
	h.mu.Unlock()
	p := insights.Pool{Connections: conns}
	if db != nil {
		st := db.Stats()
		p.Stats, p.MaxOpen, p.Open, p.InUse, p.Idle = true, st.MaxOpenConnections, st.OpenConnections, st.InUse, st.Idle
		p.WaitCount, p.WaitDuration = st.WaitCount, st.WaitDuration
	}
	return p
}

// watchPool makes the holds of a DB from Open watch its pool.
func (h *holds) watchPool(db *sql.DB) {
	if h == nil {
		return
	}
	h.mu.Lock()
	h.db = db
	h.mu.Unlock()
}

// close stops the watcher as the DB closes.
func (h *holds) close() {
	if h == nil {
		return
	}
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
}

// serverName is the host:port a connection reached; "" when unknown.
func serverName(s *dsn.Server) string {
	if s == nil {
		return ""
	}
	return s.String()
}
