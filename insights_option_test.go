package databases_test

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-databases/databases"
	"github.com/go-databases/databases/middleware/insights"
)

// TestInsightsOption: insights=on and WithInsights give a DB insights that
// databases.Insights returns, through Open and through NewConnector; off,
// it returns nil; sql.Open and Register, which share one driver among DBs,
// refuse them; a bad value names the option.
func TestInsightsOption(t *testing.T) {
	openDB := func(t *testing.T, url string, opts ...databases.Option) *sql.DB {
		t.Helper()
		db, err := databases.Open(url, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	viaConnector := func(t *testing.T, url string, opts ...databases.Option) *sql.DB {
		t.Helper()
		c, err := databases.NewConnector(url, opts...)
		if err != nil {
			t.Fatal(err)
		}
		db := sql.OpenDB(c)
		t.Cleanup(func() { db.Close() })
		return db
	}
	tests := []struct {
		name string
		db   func(t *testing.T) *sql.DB
		on   bool
	}{
		{"off by default", func(t *testing.T) *sql.DB { return openDB(t, "sqlite:///:memory:") }, false},
		{"insights=off", func(t *testing.T) *sql.DB { return openDB(t, "sqlite:///:memory:?insights=off") }, false},
		{"insights=on", func(t *testing.T) *sql.DB { return openDB(t, "sqlite:///:memory:?insights=on") }, true},
		{"WithInsights", func(t *testing.T) *sql.DB {
			return openDB(t, "sqlite:///:memory:", databases.WithInsights(insights.WithMaxQueries(5)))
		}, true},
		{"NewConnector", func(t *testing.T) *sql.DB { return viaConnector(t, "sqlite:///:memory:?insights=on") }, true},
		{"a middleware of one's own is not the DB's", func(t *testing.T) *sql.DB {
			return openDB(t, "sqlite:///:memory:", databases.WithMiddleware(insights.New()))
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := tt.db(t)
			if _, err := db.Exec("SELECT 1"); err != nil {
				t.Fatal(err)
			}
			ins := databases.Insights(db)
			if (ins != nil) != tt.on {
				t.Fatalf("Insights(db) = %v; want on %v", ins, tt.on)
			}
			if ins != nil {
				if q := ins.Queries(); len(q) != 1 || q[0].Summary != "SELECT ?" || q[0].Calls != 1 {
					t.Errorf("queries %+v; want one run of SELECT ?", q)
				}
			}
		})
	}
	other := openDB(t, "sqlite:///:memory:?insights=on")
	if databases.Insights(other) == databases.Insights(openDB(t, "sqlite:///:memory:?insights=on")) {
		t.Error("two DBs share their insights")
	}

	for _, url := range []string{"sqlite:///:memory:?insights=on"} {
		db, err := sql.Open("databases", url)
		if err == nil {
			err = db.Ping()
			db.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "insights") || !strings.Contains(err.Error(), "databases.Open") {
			t.Errorf("sql.Open(%q): %v; want an error naming insights and databases.Open", url, err)
		}
	}
	if _, err := databases.Open("sqlite:///:memory:?insights=maybe"); err == nil || !strings.Contains(err.Error(), `option insights: "maybe" is not a boolean`) {
		t.Errorf("insights=maybe: %v", err)
	}
}

// TestInsightsHandlerOff: the handler of a DB opened without insights
// serves, as HTML and as JSON, that insights are off and how to turn them
// on, rather than panicking on every request.
func TestInsightsHandlerOff(t *testing.T) {
	db, err := databases.Open("sqlite:///:memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := databases.Insights(db).Handler()
	for _, tt := range []struct{ target, contentType string }{
		{"/debug/databases", "text/html"},
		{"/debug/databases?format=json", "application/json"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", tt.target, nil))
		body := rec.Body.String()
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), tt.contentType) {
			t.Errorf("GET %s: %d %s; want 200 %s", tt.target, rec.Code, rec.Header().Get("Content-Type"), tt.contentType)
		}
		for _, want := range []string{"off", "insights=on", "WithInsights"} {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s: the answer does not say %q:\n%s", tt.target, want, body)
			}
		}
		if tt.contentType == "application/json" {
			var v struct{ Enabled *bool }
			if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || v.Enabled == nil || *v.Enabled {
				t.Errorf("GET %s: enabled = %v, %v; want false", tt.target, v.Enabled, err)
			}
		}
	}
}
