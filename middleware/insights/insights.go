package insights

import (
	"context"
	"database/sql/driver"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"github.com/go-databases/databases/middleware"
)

// DefaultMaxQueries is how many distinct query summaries an Insights keeps
// unless WithMaxQueries says otherwise.
const DefaultMaxQueries = 1000

// DefaultNPlusOne is the number of runs of one query in one scope beyond
// which it is reported as N+1, unless WithNPlusOneThreshold says otherwise.
const DefaultNPlusOne = 10

// Option configures what New returns.
type Option func(*config)

type config struct {
	maxQueries int
	nPlusOne   int // 0: no N+1 detection
	logger     *slog.Logger
	mp         metric.MeterProvider
}

// WithMaxQueries bounds the number of distinct query summaries kept (see
// Memory in the package documentation); n < 1 is taken as 1.
func WithMaxQueries(n int) Option {
	return func(c *config) { c.maxQueries = max(n, 1) }
}

// WithNPlusOneThreshold reports a query as N+1 when it runs more than n
// times in one scope; n <= 0 turns N+1 detection off. The default is
// DefaultNPlusOne.
func WithNPlusOneThreshold(n int) Option {
	return func(c *config) { c.nPlusOne = max(n, 0) }
}

// WithLogger sends N+1 reports to logger instead of slog.Default() (read
// at the time of each report).
func WithLogger(logger *slog.Logger) Option {
	return func(c *config) { c.logger = logger }
}

// WithMeterProvider sets where the N+1 counter goes. The default is the
// global provider, otel.GetMeterProvider().
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

// Insights is a middleware that aggregates every query and exec per query
// summary and reports N+1 queries. Its methods may be called from any
// goroutine. See the package documentation.
type Insights struct {
	cfg     config
	table   table
	traces  traceScopes
	counter metric.Int64Counter
	pool    atomic.Pointer[func() Pool] // the Connections table's source (connections.go)
}

var _ middleware.Selective = (*Insights)(nil)

// New returns an Insights. Add it to a DB with databases.WithMiddleware, or
// open the DB with the URL option insights=on and get it with
// databases.Insights(db).
func New(opts ...Option) *Insights {
	cfg := config{maxQueries: DefaultMaxQueries, nPlusOne: DefaultNPlusOne}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	i := &Insights{cfg: cfg}
	i.table.init(cfg.maxQueries)
	i.counter = newCounter(cfg.mp)
	return i
}

// Interest asks for the calls that run a query: exec and query on a
// connection or a statement, and the rows that end a query. Every other
// call (connect, begin, commit, ...) passes by without this middleware.
func (i *Insights) Interest(_ context.Context, op middleware.Op) middleware.Interest {
	switch op {
	case middleware.OpExec, middleware.OpQuery, middleware.OpStmtExec, middleware.OpStmtQuery, middleware.OpRows:
		return middleware.All
	}
	return middleware.None
}

// Handle runs the call and records it: an exec when it returns, a query
// when its rows close (OpRows), or when it fails before returning rows.
func (i *Insights) Handle(ctx context.Context, c *middleware.Call, next middleware.Handler) error {
	err := next(ctx, c)
	switch c.Op {
	case middleware.OpExec, middleware.OpStmtExec:
		if err != nil && errors.Is(err, driver.ErrSkip) {
			return err // database/sql does it another way, which is recorded
		}
		i.record(ctx, c, err, 0, max(c.RowsAffected, 0))
	case middleware.OpQuery, middleware.OpStmtQuery:
		if err != nil && !errors.Is(err, driver.ErrSkip) {
			i.record(ctx, c, err, 0, 0) // no rows will come
		}
	case middleware.OpRows:
		failure := c.RowsErr
		if failure == nil {
			failure = err
		}
		i.record(ctx, c, failure, max(c.RowsReturned, 0), 0)
	}
	return err
}

// record adds one run of c's query to its summary, and counts it in its
// scope for N+1 detection.
func (i *Insights) record(ctx context.Context, c *middleware.Call, err error, returned, affected int64) {
	q := c.Query
	if q == "" {
		q = c.NativeQuery
	}
	e := i.table.lookup(c.DB, q)
	now := time.Now()
	var d time.Duration
	if !c.Start.IsZero() {
		d = now.Sub(c.Start)
	}
	e.add(now, d, returned, affected, err)
	if i.cfg.nPlusOne > 0 {
		i.countInScope(ctx, c, e)
	}
}

// Databases returns the databases the queries kept ran on (dialect,
// database name or SQLite file, server address and port; no URL), in the
// order first seen, at most eight: what the page's title names.
func (i *Insights) Databases() []middleware.Database {
	return i.table.databases()
}

// Queries returns the queries kept, the most costly (by total time) first.
func (i *Insights) Queries() []Query {
	return i.table.queries()
}

// Stats describes the table of queries itself.
type Stats struct {
	MaxQueries int    // the bound on distinct summaries
	Queries    int    // summaries kept now
	Evicted    uint64 // summaries evicted to make room, since New
	// EvictedCalls counts the calls recorded under evicted summaries.
	EvictedCalls uint64
	// NPlusOne counts the N+1 reports made, since New.
	NPlusOne uint64
}

// Stats returns the state of the table of queries.
func (i *Insights) Stats() Stats {
	return i.table.stats()
}
