package insights_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-databases/databases/middleware"
	"github.com/go-databases/databases/middleware/insights"
)

// readPage serves target from ins's handler and returns the body, failing
// on any status but 200.
func readPage(t *testing.T, ins *insights.Insights, target string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	ins.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(context.Background(), "GET", target, nil))
	if rec.Code != http.StatusOK {
		t.Errorf("GET %s: %d %s", target, rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// run records one call of query through ins, as package databases would,
// lasting d.
func run(ins *insights.Insights, ctx context.Context, op middleware.Op, query string, d time.Duration, err error) {
	c := &middleware.Call{Op: op, DB: &middleware.Database{Dialect: "sqlite"}, Query: query, NativeQuery: query, Start: time.Now().Add(-d), RowsAffected: -1}
	middleware.NewPipeline(ins).Run(ctx, c, func(context.Context, *middleware.Call) error { return err })
}

// jsonPage is the JSON answer.
type jsonPage struct {
	Queries []map[string]any `json:"queries"`
}

func TestHandlerJSON(t *testing.T) {
	ins := insights.New()
	for range 3 {
		run(ins, context.Background(), middleware.OpExec, "UPDATE a SET x = 1", 2*time.Millisecond, nil)
	}
	run(ins, context.Background(), middleware.OpExec, "UPDATE b SET x = 1", 50*time.Millisecond, nil)
	run(ins, context.Background(), middleware.OpExec, "UPDATE c SET x = 1", time.Millisecond, context.DeadlineExceeded)

	tests := []struct {
		target string
		order  []string // summaries in order
	}{
		{"/?format=json", []string{"UPDATE b SET x = ?", "UPDATE a SET x = ?", "UPDATE c SET x = ?"}},
		{"/?format=json&sort=calls", []string{"UPDATE a SET x = ?", "UPDATE b SET x = ?", "UPDATE c SET x = ?"}},
		{"/?format=json&sort=errors&limit=1", []string{"UPDATE c SET x = ?"}},
		{"/?format=json&sort=p99", []string{"UPDATE b SET x = ?", "UPDATE a SET x = ?", "UPDATE c SET x = ?"}},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			var page jsonPage
			if err := json.Unmarshal([]byte(readPage(t, ins, tt.target)), &page); err != nil {
				t.Fatal(err)
			}
			var order []string
			for _, q := range page.Queries {
				order = append(order, q["summary"].(string))
				for _, k := range []string{"summary", "calls", "errors", "rows", "total_ms", "p50_ms", "p95_ms", "p99_ms"} {
					if _, ok := q[k]; !ok {
						t.Errorf("query %v has no key %q", q["summary"], k)
					}
				}
			}
			if strings.Join(order, "|") != strings.Join(tt.order, "|") {
				t.Fatalf("order %q; want %q", order, tt.order)
			}
		})
	}
	var page jsonPage
	json.Unmarshal([]byte(readPage(t, ins, "/?format=json&sort=calls")), &page)
	a := page.Queries[0]
	if a["calls"] != 3.0 || a["errors"] != 0.0 || a["total_ms"].(float64) < 6 || a["p50_ms"].(float64) < 1.8 || a["p50_ms"].(float64) > 2.2 {
		t.Errorf("UPDATE a: %v; want 3 calls of about 2 ms", a)
	}
	if c := page.Queries[2]; c["errors"] != 1.0 || c["errors_by_class"].(map[string]any)["context.DeadlineExceeded"] != 1.0 {
		t.Errorf("UPDATE c: %v; want 1 error of class context.DeadlineExceeded", c)
	}
}

func TestHandlerBadRequests(t *testing.T) {
	ins := insights.New()
	for _, target := range []string{"/?sort=nope", "/?limit=-1", "/?limit=x", "/?format=xml"} {
		rec := httptest.NewRecorder()
		ins.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(context.Background(), "GET", target, nil))
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "insights: ") {
			t.Errorf("GET %s: %d %q; want 400 naming the parameter", target, rec.Code, rec.Body)
		}
	}
}

// TestHandlerHTML: the page escapes query text, has sort links and a
// histogram per query, and loads and runs nothing else.
func TestHandlerHTML(t *testing.T) {
	ins := insights.New()
	run(ins, context.Background(), middleware.OpExec, `SELECT "<script>alert(1)</script>" FROM t`, time.Millisecond, nil)
	rec := httptest.NewRecorder()
	ins.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(context.Background(), "GET", "/?sort=calls", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`SELECT &#34;&lt;script&gt;alert(1)&lt;/script&gt;&#34; FROM t`,
		`<th aria-sort="descending"><a href="?sort=calls">Calls ▼</a></th>`,
		`<a href="?sort=p99">p99</a>`,
		`<svg width="160" height="40"`,
		`<rect x="0"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s:\n%s", want, body)
		}
	}
	for _, bad := range []string{"<script>", "src=", "http://", "https://"} {
		if strings.Contains(body, bad) {
			t.Errorf("page has %q", bad)
		}
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
}
