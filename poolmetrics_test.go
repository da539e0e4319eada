package databases_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/go-databases/databases"
)

// TestPoolMetrics: Open with a meter provider reports the pool, under the
// semantic-convention names by default and otelsql's on request, and
// stops when the DB closes.
func TestPoolMetrics(t *testing.T) {
	tests := []struct {
		name   string
		opts   []databases.Option
		metric string            // a metric to find, with the value 4
		attrs  map[string]string // attributes it must carry
		absent string            // a metric that must not be there
	}{
		{
			name:   "semconv by default",
			metric: "db.client.connection.max",
			attrs:  map[string]string{"db.client.connection.pool.name": ":memory:", "db.system.name": "sqlite"},
			absent: "db.sql.connection.max_open",
		},
		{
			name:   "semconv pool name",
			opts:   []databases.Option{databases.WithPoolName("primary")},
			metric: "db.client.connection.idle.max",
			attrs:  map[string]string{"db.client.connection.pool.name": "primary"},
		},
		{
			name:   "otelsql",
			opts:   []databases.Option{databases.WithPoolMetricNames(databases.PoolMetricsOtelsql)},
			metric: "db.sql.connection.max_open",
			attrs:  map[string]string{"db.system.name": "sqlite"},
			absent: "db.client.connection.max",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reader := sdkmetric.NewManualReader()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			db, err := databases.Open("sqlite:///:memory:?max_open_conns=4&max_idle_conns=4", append(tt.opts, databases.WithMeterProvider(mp))...)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Ping(); err != nil {
				t.Fatal(err)
			}
			type point struct {
				value int64
				attrs attribute.Set
			}
			metrics := func() map[string][]point {
				var rm metricdata.ResourceMetrics
				if err := reader.Collect(context.Background(), &rm); err != nil {
					t.Fatal(err)
				}
				out := map[string][]point{}
				for _, sm := range rm.ScopeMetrics {
					for _, m := range sm.Metrics {
						switch d := m.Data.(type) {
						case metricdata.Gauge[int64]:
							for _, p := range d.DataPoints {
								out[m.Name] = append(out[m.Name], point{p.Value, p.Attributes})
							}
						case metricdata.Sum[int64]:
							for _, p := range d.DataPoints {
								out[m.Name] = append(out[m.Name], point{p.Value, p.Attributes})
							}
						}
					}
				}
				return out
			}
			got := metrics()
			if _, ok := got[tt.absent]; ok {
				t.Errorf("%s reported: %v", tt.absent, got)
			}
			points := got[tt.metric]
			if len(points) != 1 || points[0].value != 4 {
				t.Fatalf("%s = %v; want one point of 4 (metrics %v)", tt.metric, points, got)
			}
			for k, v := range tt.attrs {
				if a, ok := points[0].attrs.Value(attribute.Key(k)); !ok || a.AsString() != v {
					t.Errorf("%s: attribute %s = %q; want %q", tt.metric, k, a.AsString(), v)
				}
			}
			if count := got["db.client.connection.count"]; tt.metric == "db.client.connection.max" && len(count) != 2 {
				t.Errorf("db.client.connection.count = %v; want a point per state, idle and used", count)
			}
			db.Close()
			if got := metrics(); len(got) > 0 {
				t.Fatalf("pool metrics still reported after Close: %v", got)
			}
		})
	}
}
