package databases

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/XSAM/otelsql"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-databases/databases/middleware"
	"github.com/go-databases/databases/middleware/logging"
	"github.com/go-databases/databases/middleware/tracing"
)

// WithLogger logs every driver call to logger through middleware/logging
// (debug per call, warn when slow, error on failure). The URL options
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
// mp and, for a DB from Open, the pool metrics of database/sql through
// otelsql.RegisterDBStatsMetrics, unregistered when the DB closes.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(o *options) { o.meterProvider = mp }
}

// builtins returns the built-in middleware the options and URL ask for:
// tracing outermost, so that log records carry the span in their context.
func (o *options) builtins(cfg *config) []middleware.Middleware {
	var mw []middleware.Middleware
	if o.tracerProvider != nil || o.meterProvider != nil || cfg.trace {
		var topts []tracing.Option
		if o.tracerProvider != nil {
			topts = append(topts, tracing.WithTracerProvider(o.tracerProvider))
		}
		if o.meterProvider != nil {
			topts = append(topts, tracing.WithMeterProvider(o.meterProvider))
		}
		if cfg.literals {
			topts = append(topts, tracing.WithQueryLiterals())
		}
		mw = append(mw, tracing.New(topts...))
	}
	var fromURL []logging.Option
	if cfg.slow > 0 {
		fromURL = append(fromURL, logging.WithSlowThreshold(cfg.slow))
	}
	if cfg.literals {
		fromURL = append(fromURL, logging.WithQueryLiterals())
	}
	switch {
	case o.logging != nil:
		mw = append(mw, logging.New(o.logging.logger, slices.Concat(o.logging.opts, fromURL)...))
	case cfg.logLevel != nil:
		mw = append(mw, logging.New(slog.New(&defaultHandler{min: *cfg.logLevel}), fromURL...))
	}
	return mw
}

// registerPoolMetrics reports db.Stats() as OpenTelemetry metrics.
func (c *connector) registerPoolMetrics(db *sql.DB) error {
	if c.opts.meterProvider == nil {
		return nil
	}
	reg, err := otelsql.RegisterDBStatsMetrics(db,
		otelsql.WithMeterProvider(c.opts.meterProvider),
		otelsql.WithAttributes(tracing.SystemName(c.cfg.dialect.name)))
	if err != nil {
		return fmt.Errorf("databases: pool metrics: %w", err)
	}
	c.mu.Lock()
	c.poolMetrics = reg
	c.mu.Unlock()
	return nil
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

// setLog reads the log URL option.
func setLog(p *urlParse, v string) error {
	var l slog.Level
	switch strings.ToLower(v) {
	case "off", "false", "none":
		p.cfg.logLevel = nil
		return nil
	case "on", "true":
		l = slog.LevelInfo
	default:
		if err := l.UnmarshalText([]byte(v)); err != nil {
			return fmt.Errorf("%q is not debug, info, warn, error or off", v)
		}
	}
	p.cfg.logLevel = &l
	return nil
}

// setSlow reads the slow URL option; without log it turns logging on at
// warn, so that slow calls show.
func setSlow(p *urlParse, v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("%q is not a duration such as 200ms", v)
	}
	p.cfg.slow = d
	if p.cfg.logLevel == nil {
		if _, logGiven := p.seen["log"]; !logGiven {
			l := slog.LevelWarn
			p.cfg.logLevel = &l
		}
	}
	return nil
}

// setSanitize reads the sanitize URL option: off records query text with
// its literals in the logs and spans of the built-in middleware.
func setSanitize(p *urlParse, v string) error {
	switch strings.ToLower(v) {
	case "on", "true":
		p.cfg.literals = false
	case "off", "false":
		p.cfg.literals = true
	default:
		return fmt.Errorf("%q is not on or off", v)
	}
	return nil
}

func setTrace(p *urlParse, v string) error {
	b, err := strconv.ParseBool(strings.NewReplacer("on", "true", "off", "false").Replace(strings.ToLower(v)))
	if err != nil {
		return fmt.Errorf("%q is not on or off", v)
	}
	p.cfg.trace = b
	return nil
}
