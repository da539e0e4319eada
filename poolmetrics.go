package databases

// Pool metrics: the database/sql pool of a DB from Open, read from
// sql.DBStats when a MeterProvider collects, under the OpenTelemetry
// semantic-convention names by default or otelsql's, and unregistered when
// the DB closes.

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/XSAM/otelsql"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/dbconv"

	"github.com/go-databases/databases/middleware/tracing"
)

// PoolMetricNames picks the names pool metrics are reported under.
type PoolMetricNames uint8

const (
	// PoolMetricsSemconv, the default, reports the OpenTelemetry semantic
	// conventions' db.client.connection.count (state idle and used),
	// db.client.connection.max when the pool has a limit and, when the URL sets max_idle_conns,
	// db.client.connection.idle.max, each with db.client.connection.pool.name
	// and db.system.name, and the histogram db.client.connection.use_time
	// from the driver's view of the pool: how long each rows (from the
	// query to Close) and each transaction (BeginTx to Commit or Rollback)
	// held its connection (holds.go); a single Exec and a sql.Conn are not
	// seen. The conventions are what dashboards and backends build on
	// across languages, and otelsql's maintainers mean to move to them
	// (XSAM/otelsql#598). database/sql has no source for the others
	// (idle.min, pending_requests, timeouts, wait_time and create_time): it
	// counts waits only as running totals, with no count of the callers
	// waiting now, and a driver never sees a caller wait.
	PoolMetricsSemconv PoolMetricNames = iota
	// PoolMetricsOtelsql reports otelsql's db.sql.connection.* names through
	// otelsql.RegisterDBStatsMetrics, with the running totals of waits and
	// closed connections, for dashboards built on them.
	PoolMetricsOtelsql
)

// WithPoolMetricNames picks the names of the pool metrics a DB from Open
// reports when a MeterProvider is given (WithMeterProvider); the default is
// PoolMetricsSemconv.
func WithPoolMetricNames(names PoolMetricNames) Option {
	return func(o *options) { o.poolNames = names }
}

// WithPoolName sets db.client.connection.pool.name. The default is what the
// conventions suggest, server.address:server.port/db.namespace, or the
// database's file path on SQLite.
func WithPoolName(name string) Option {
	return func(o *options) { o.poolName = name }
}

// poolName returns the pool's db.client.connection.pool.name.
func (c *connector) poolName() string {
	if c.opts.poolName != "" {
		return c.opts.poolName
	}
	if c.cfg.Host == "" {
		return c.cfg.Database
	}
	name := c.cfg.Host
	if c.cfg.Port > 0 {
		name += ":" + strconv.Itoa(c.cfg.Port)
	}
	return name + "/" + c.cfg.Database
}

// registerPoolMetrics reports db.Stats() as OpenTelemetry metrics.
func (c *connector) registerPoolMetrics(db *sql.DB) error {
	if c.opts.meterProvider == nil {
		return nil
	}
	var reg metric.Registration
	var err error
	if c.opts.poolNames == PoolMetricsOtelsql {
		reg, err = otelsql.RegisterDBStatsMetrics(db,
			otelsql.WithMeterProvider(c.opts.meterProvider),
			otelsql.WithAttributes(tracing.SystemName(c.cfg.Dialect.Name)))
	} else {
		reg, err = c.registerSemconvPoolMetrics(db)
	}
	if err != nil {
		return fmt.Errorf("databases: pool metrics: %w", err)
	}
	c.mu.Lock()
	c.poolMetrics = reg
	c.mu.Unlock()
	return nil
}

// registerSemconvPoolMetrics registers the callback that reports the pool
// under the conventions' names.
func (c *connector) registerSemconvPoolMetrics(db *sql.DB) (metric.Registration, error) {
	m := c.opts.meterProvider.Meter("github.com/go-databases/databases", metric.WithSchemaURL(semconv.SchemaURL))
	count, err := dbconv.NewClientConnectionCountObservable(m)
	if err != nil {
		return nil, err
	}
	maxOpen, err := dbconv.NewClientConnectionMaxObservable(m)
	if err != nil {
		return nil, err
	}
	instruments := []metric.Observable{count.Inst(), maxOpen.Inst()}
	var idleMax dbconv.ClientConnectionIdleMaxObservable
	maxIdle := c.cfg.Pool.MaxIdle
	if maxIdle != nil {
		if idleMax, err = dbconv.NewClientConnectionIdleMaxObservable(m); err != nil {
			return nil, err
		}
		instruments = append(instruments, idleMax.Inst())
	}
	base := []attribute.KeyValue{semconv.DBClientConnectionPoolName(c.poolName()), tracing.SystemName(c.cfg.Dialect.Name)}
	pool := metric.WithAttributeSet(attribute.NewSet(base...))
	idle := metric.WithAttributeSet(attribute.NewSet(append(base, semconv.DBClientConnectionStateIdle)...))
	used := metric.WithAttributeSet(attribute.NewSet(append(base, semconv.DBClientConnectionStateUsed)...))
	return m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st := db.Stats()
		o.ObserveInt64(count.Inst(), int64(st.Idle), idle)
		o.ObserveInt64(count.Inst(), int64(st.InUse), used)
		if st.MaxOpenConnections > 0 { // 0: no limit
			o.ObserveInt64(maxOpen.Inst(), int64(st.MaxOpenConnections), pool)
		}
		if maxIdle != nil {
			o.ObserveInt64(idleMax.Inst(), int64(*maxIdle), pool)
		}
		return nil
	}, instruments...)
}

// newUseTime returns the histogram db.client.connection.use_time and its
// attributes, which the holds record (holds.go). An error goes to the
// global OpenTelemetry error handler and leaves no histogram.
func (c *connector) newUseTime() (dbconv.ClientConnectionUseTime, attribute.Set) {
	m := c.opts.meterProvider.Meter("github.com/go-databases/databases", metric.WithSchemaURL(semconv.SchemaURL))
	h, err := dbconv.NewClientConnectionUseTime(m)
	if err != nil {
		otel.Handle(err)
		return dbconv.ClientConnectionUseTime{}, attribute.Set{}
	}
	return h, attribute.NewSet(semconv.DBClientConnectionPoolName(c.poolName()), tracing.SystemName(c.cfg.Dialect.Name))
}
