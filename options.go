package databases

// Options: what a connector is given in code (Option and the With…
// functions, but WithForceRollback, which is with its mode in
// forcerollback.go), and what the options, in code and in the URL, build
// when a connector is made: the middleware pipeline with the built-in
// tracing and logging, the pool settings and the pool metrics of a DB from
// Open. internal/dsn reads the URL's options; this file acts on them.

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-databases/databases/internal/dsn"
	"github.com/go-databases/databases/middleware"
	"github.com/go-databases/databases/middleware/insights"
	"github.com/go-databases/databases/middleware/logging"
	"github.com/go-databases/databases/middleware/tracing"
)

// Option configures a connector in code, beside what the URL says.
type Option func(*options)

type options struct {
	native         bool // send queries as written
	forceRollback  bool
	chain          middleware.Chain
	logging        *loggerOption // WithLogger
	tracerProvider trace.TracerProvider
	meterProvider  metric.MeterProvider
	insightsOpts   []insights.Option // WithInsights; nil: only the URL turns insights on
	insightsOn     bool
	insights       *insights.Insights // built with the pipeline
	poolNames      PoolMetricNames
	poolName       string
	replicaURLs    []string // WithReplicas

	credentials   CredentialsFunc // WithCredentials (credentials.go)
	leakThreshold time.Duration   // WithLeakThreshold (holds.go)

	transactAttempts int // WithTransactAttempts; 0: not given
}

// newOptions applies the options of the driver (Register, Open), then
// those of the call (NewConnector).
func newOptions(d *Driver, opts []Option) options {
	var o options
	for _, opt := range d.opts {
		opt(&o)
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithMiddleware adds middleware to the chain every driver call runs
// through; the first one given is the outermost.
func WithMiddleware(mw ...middleware.Middleware) Option {
	return func(o *options) { o.chain = append(o.chain, mw...) }
}

// WithNativePlaceholders sends every query as written, like the URL option
// placeholders=native: no placeholder is rewritten and arguments are passed
// to the real driver unchanged.
func WithNativePlaceholders() Option {
	return func(o *options) { o.native = true }
}

// WithLogger logs every driver call to logger through middleware/logging
// (info per exec and query, debug for the other calls, warn when slow,
// error on failure). The URL options
// log=LEVEL and slow=DURATION do the same with slog.Default(); a slow
// threshold or sanitize=off in the URL also applies to logger, after opts,
// so it overrides one given there.
func WithLogger(logger *slog.Logger, opts ...logging.Option) Option {
	return func(o *options) { o.logging = &loggerOption{logger: logger, opts: opts} }
}

// loggerOption is what WithLogger was given; the middleware is built when
// the URL is known.
type loggerOption struct {
	logger *slog.Logger
	opts   []logging.Option
}

// WithTracerProvider traces every driver call with middleware/tracing on
// tp. The URL option trace=on does the same with the global provider.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tracerProvider = tp }
}

// WithMeterProvider records the db.client.operation.duration histogram on
// mp and, for a DB from Open, the pool metrics of database/sql
// (poolmetrics.go), unregistered when the DB closes.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(o *options) { o.meterProvider = mp }
}

// WithInsights aggregates every query and reports N+1 queries with
// middleware/insights, configured by opts, like the URL option
// insights=on; databases.Insights(db) returns it. A DB from sql.Open or a
// name from Register cannot give it back, so there it is an error.
func WithInsights(opts ...insights.Option) Option {
	return func(o *options) { o.insightsOn, o.insightsOpts = true, opts }
}

// WithTransactAttempts bounds how many times Transact runs a transaction
// that fails with a retryable error (IsRetryable), like the URL option
// transact_attempts, which wins when both are given; 1 never retries. The
// default is DefaultTransactAttempts.
func WithTransactAttempts(n int) Option {
	return func(o *options) { o.transactAttempts = n }
}

// transactAttempts is the bound on Transact's attempts for the connector's
// DB: the URL's, then WithTransactAttempts', then the default.
func (c *connector) transactAttempts() int {
	switch {
	case c.cfg.TransactAttempts > 0:
		return c.cfg.TransactAttempts
	case c.opts.transactAttempts > 0:
		return c.opts.transactAttempts
	}
	return DefaultTransactAttempts
}

// pipeline returns the pipeline every driver call runs through: the
// built-in middleware, then that of WithMiddleware. It is nil when there
// is none, and calls go straight to the real driver.
func (o *options) pipeline(cfg *dsn.Config) *middleware.Pipeline {
	chain := append(o.builtins(cfg), o.chain...)
	if len(chain) == 0 {
		return nil
	}
	return middleware.NewPipeline(chain...)
}

// builtins returns the built-in middleware the options and URL ask for:
// tracing outermost, so that insights and log records see the span in
// their context, then insights, then logging.
func (o *options) builtins(cfg *dsn.Config) []middleware.Middleware {
	var mw []middleware.Middleware
	if o.tracerProvider != nil || o.meterProvider != nil || cfg.Trace {
		var topts []tracing.Option
		if o.tracerProvider != nil {
			topts = append(topts, tracing.WithTracerProvider(o.tracerProvider))
		}
		if o.meterProvider != nil {
			topts = append(topts, tracing.WithMeterProvider(o.meterProvider))
		}
		if cfg.Literals {
			topts = append(topts, tracing.WithQueryLiterals())
		}
		mw = append(mw, tracing.New(topts...))
	}
	if o.insightsOn || cfg.Insights {
		var iopts []insights.Option
		if o.logging != nil && o.logging.logger != nil {
			iopts = append(iopts, insights.WithLogger(o.logging.logger))
		}
		if o.meterProvider != nil {
			iopts = append(iopts, insights.WithMeterProvider(o.meterProvider))
		}
		o.insights = insights.New(append(iopts, o.insightsOpts...)...)
		mw = append(mw, o.insights)
	}
	var fromURL []logging.Option
	if cfg.Slow > 0 {
		fromURL = append(fromURL, logging.WithSlowThreshold(cfg.Slow))
	}
	if cfg.Literals {
		fromURL = append(fromURL, logging.WithQueryLiterals())
	}
	switch {
	case o.logging != nil:
		mw = append(mw, logging.New(o.logging.logger, slices.Concat(o.logging.opts, fromURL)...))
	case cfg.LogLevel != nil:
		mw = append(mw, logging.New(slog.New(&defaultHandler{min: *cfg.LogLevel}), fromURL...))
	}
	return mw
}

// defaultHandler sends records at or above min to the handler of
// slog.Default() at the time of the record, whatever level that handler is
// set to: log=debug shows debug records.
type defaultHandler struct {
	min   slog.Level
	attrs []slog.Attr
	group string
}

func (h *defaultHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.min }

func (h *defaultHandler) Handle(ctx context.Context, r slog.Record) error {
	inner := slog.Default().Handler()
	if h.group != "" {
		inner = inner.WithGroup(h.group)
	}
	if len(h.attrs) > 0 {
		inner = inner.WithAttrs(h.attrs)
	}
	return inner.Handle(ctx, r)
}

func (h *defaultHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &c
}

func (h *defaultHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.group = name
	return &c
}
