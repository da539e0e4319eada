package databases

// Read replicas: health. A replica that cannot be reached is skipped, with
// backoff (1s doubling to 30s), and tried again after; with
// max_replica_lag, one further behind is skipped until its lag is read
// again. When no replica is usable, replica_fallback says whether reads run
// on the primary or fail with ErrNoReplica, which says why each replica was
// skipped. Lag and read-your-writes waits are OpenTelemetry metrics under
// WithMeterProvider.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/go-databases/databases/internal/dsn"
	"github.com/go-databases/databases/middleware/tracing"
)

// ErrNoReplica is the error of a replica read when no replica is usable and
// replica_fallback=error; the message says why each replica was skipped.
var ErrNoReplica = errors.New("databases: no usable read replica")

// Backoff of a replica that cannot be reached, and how often a replica's
// lag is read.
const (
	replicaBackoffMin = time.Second
	replicaBackoffMax = 30 * time.Second
	replicaLagEvery   = time.Second
)

// replicaHealth is what is known of a replica's state.
type replicaHealth struct {
	mu        sync.Mutex
	failures  int       // failures in a row
	downUntil time.Time // skipped until then
	lastErr   error

	lag      time.Duration // last read; lagStopped when replication is not running
	lagAt    time.Time     // when it was read (zero: never)
	lagKnown bool
}

// failed marks the replica down after err, with backoff, and returns the
// reason it is skipped.
func (h *replicaHealth) failed(now time.Time, err error) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failures++
	backoff := min(replicaBackoffMin<<min(h.failures-1, 5), replicaBackoffMax)
	h.downUntil, h.lastErr = now.Add(backoff), err
	return h.reasonLocked(now)
}

// connected records that the replica answered.
func (h *replicaHealth) connected() {
	h.mu.Lock()
	h.failures, h.downUntil, h.lastErr = 0, time.Time{}, nil
	h.mu.Unlock()
}

func (h *replicaHealth) lastReason() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.reasonLocked(time.Now())
}

func (h *replicaHealth) reasonLocked(now time.Time) string {
	if h.lastErr == nil {
		return "unreachable"
	}
	return fmt.Sprintf("unreachable (%v); tried again in %s", h.lastErr, h.downUntil.Sub(now).Round(time.Millisecond))
}

// skip returns why the replica must be skipped now, or "" when it is
// usable: it is down, or its lag, read within replicaLagEvery, is over
// maxLag.
func (h *replicaHealth) skip(now time.Time, maxLag time.Duration) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if now.Before(h.downUntil) {
		return h.reasonLocked(now)
	}
	if maxLag > 0 && h.lagKnown && h.lag > maxLag && now.Sub(h.lagAt) < replicaLagEvery {
		if h.lag == lagStopped {
			return "replication is not running"
		}
		return fmt.Sprintf("lag %s exceeds max_replica_lag %s", h.lag.Round(time.Millisecond), maxLag)
	}
	return ""
}

// lagDue reports whether the lag should be read now, and if so claims the
// reading, so that one connection reads it per interval.
func (h *replicaHealth) lagDue(now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if now.Sub(h.lagAt) < replicaLagEvery {
		return false
	}
	h.lagAt = now
	return true
}

func (h *replicaHealth) setLag(lag time.Duration) {
	h.mu.Lock()
	h.lag, h.lagKnown = lag, true
	h.mu.Unlock()
}

// lastLag returns the lag last read, if any.
func (h *replicaHealth) lastLag() (time.Duration, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lag, h.lagKnown
}

// pick chooses a usable replica for a new replica connection, taking them
// in turn; when none is usable it returns why each was skipped.
func (s *replicaSet) pick(now time.Time) (*replica, []string) {
	start := int(s.next.Add(1))
	var why []string
	for i := range s.list {
		r := s.list[(start+i)%len(s.list)]
		reason := r.health.skip(now, s.opts.MaxLag)
		if reason == "" {
			return r, nil
		}
		why = append(why, r.addr.String()+": "+reason)
	}
	return nil, why
}

// fallback is what a replica read does when no replica is usable: run on
// the primary (nil), or fail with ErrNoReplica naming the replicas and why
// each was skipped.
func (s *replicaSet) fallback(ctx context.Context, why []string) error {
	if !s.opts.FallbackError {
		s.metrics.recordFallback(ctx)
		return nil
	}
	return fmt.Errorf("%w (replica_fallback=error): %s", ErrNoReplica, strings.Join(dedupe(why), "; "))
}

// dedupe keeps the first reason given for each replica.
func dedupe(why []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range why {
		addr, _, _ := strings.Cut(w, ": ")
		if !seen[addr] {
			seen[addr] = true
			out = append(out, w)
		}
	}
	return out
}

// checkLag reads the replica's lag on rconn when it is due, which it is only
// with max_replica_lag or metrics. The error is the connection's: a lag
// that cannot be read (no privilege for SHOW SLAVE STATUS) is left unknown.
func (s *replicaSet) checkLag(ctx context.Context, r *replica, rconn *conn) error {
	if s.opts.MaxLag == 0 && s.metrics == nil || !r.health.lagDue(time.Now()) {
		return nil
	}
	lag, err := s.pos0.lag(ctx, &rconn.realConn)
	if err != nil {
		return err
	}
	r.health.setLag(lag)
	return nil
}

// replicaMetrics are the replicas' OpenTelemetry instruments.
type replicaMetrics struct {
	wait      metric.Float64Histogram
	fallbacks metric.Int64Counter
	reg       metric.Registration
	system    attribute.KeyValue
}

func newReplicaMetrics(mp metric.MeterProvider, d *dsn.Dialect, set *replicaSet) (*replicaMetrics, error) {
	meter := mp.Meter("github.com/go-databases/databases")
	m := &replicaMetrics{system: tracing.SystemName(d.Name)}
	var err error
	if m.wait, err = meter.Float64Histogram("db.client.replica.wait.duration", metric.WithUnit("s"),
		metric.WithDescription("Time a replica read waited for the replica to replay the writes it must see.")); err != nil {
		return nil, fmt.Errorf("databases: replica metrics: %w", err)
	}
	if m.fallbacks, err = meter.Int64Counter("db.client.replica.fallbacks",
		metric.WithDescription("Replica reads run on the primary because no replica was usable or caught up in time.")); err != nil {
		return nil, fmt.Errorf("databases: replica metrics: %w", err)
	}
	lag, err := meter.Float64ObservableGauge("db.client.replica.lag", metric.WithUnit("s"),
		metric.WithDescription("How far each replica was behind its primary when last read; -1 when replication is not running."))
	if err != nil {
		return nil, fmt.Errorf("databases: replica metrics: %w", err)
	}
	m.reg, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for _, r := range set.list {
			l, ok := r.health.lastLag()
			if !ok {
				continue
			}
			v := l.Seconds()
			if l == lagStopped {
				v = -1
			}
			o.ObserveFloat64(lag, v, metric.WithAttributes(m.system, semconv.ServerAddress(r.addr.Host), semconv.ServerPort(r.addr.Port)))
		}
		return nil
	}, lag)
	if err != nil {
		return nil, fmt.Errorf("databases: replica metrics: %w", err)
	}
	return m, nil
}

func (m *replicaMetrics) close() error { return m.reg.Unregister() }

// recordWait records a read-your-writes wait: outcome caught_up, timeout
// or error.
func (m *replicaMetrics) recordWait(ctx context.Context, r *replica, d time.Duration, ok bool, err error) {
	if m == nil {
		return
	}
	outcome := "caught_up"
	switch {
	case err != nil:
		outcome = "error"
	case !ok:
		outcome = "timeout"
	}
	m.wait.Record(ctx, d.Seconds(), metric.WithAttributes(m.system, semconv.ServerAddress(r.addr.Host),
		semconv.ServerPort(r.addr.Port), attribute.String("outcome", outcome)))
}

func (m *replicaMetrics) recordFallback(ctx context.Context) {
	if m != nil {
		m.fallbacks.Add(ctx, 1, metric.WithAttributes(m.system))
	}
}
