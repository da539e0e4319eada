package insights_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-databases/databases/middleware/insights"
)

// TestConnectionsTable: with a pool source the page shows a Connections
// table and the JSON a "pool" object, each connection with since when,
// where it was opened, whether in a transaction and its query, escaped;
// without figures of the pool the JSON leaves them out; without a source
// there is neither.
func TestConnectionsTable(t *testing.T) {
	since := time.Now().Add(-3 * time.Second)
	withStats := insights.Pool{
		Stats: true, MaxOpen: 2, Open: 2, InUse: 2, WaitCount: 4, WaitDuration: 1500 * time.Millisecond,
		Connections: []insights.Connection{
			{ID: 7, Server: "db1:5432", Since: since, OpenedAt: "app/users.go:42", InTx: true, Query: `UPDATE users SET name = ? WHERE note = "<b>"`},
			{ID: 9, Since: since.Add(time.Second), Query: "SELECT id FROM users"},
		},
	}
	tests := []struct {
		name string
		pool *insights.Pool // nil: no source
		html []string       // in the page
		json string         // the "pool" object, as JSON with held_ms and since dropped; "" for none
	}{
		{
			name: "stats and two connections",
			pool: &withStats,
			html: []string{
				`<h2>Connections</h2>`,
				`2 in use, 0 idle, at most 2; 4 waits for a connection, 1500.000 ms waited in all.`,
				`<table id="connections">`,
				`<td class="n">7 (db1:5432)</td>`,
				`<td class="q">app/users.go:42</td>`,
				`<td>yes</td>`,
				`<td class="q">UPDATE users SET name = ? WHERE note = &#34;&lt;b&gt;&#34;</td>`,
				`<td class="n">9</td>`,
				`<td class="q">—</td>`,
				`<td>no</td>`,
			},
			json: `{"connections":[{"id":7,"in_tx":true,"opened_at":"app/users.go:42","query":"UPDATE users SET name = ? WHERE note = \"\u003cb\u003e\"","server":"db1:5432"},{"id":9,"in_tx":false,"query":"SELECT id FROM users"}],"idle":0,"in_use":2,"max_open":2,"open":2,"wait_count":4,"wait_ms":1500}`,
		},
		{
			name: "no stats",
			pool: &insights.Pool{},
			html: []string{`<h2>Connections</h2>`, `<table id="connections">`},
			json: `{"connections":[]}`,
		},
		{name: "no source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ins := insights.New()
			if tt.pool != nil {
				p := *tt.pool
				ins.SetPool(func() insights.Pool { return p })
			}
			body := readPage(t, ins, "/")
			for _, want := range tt.html {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %s:\n%s", want, body)
				}
			}
			if tt.pool == nil && strings.Contains(body, "Connections") {
				t.Errorf("page without a pool source shows a Connections table:\n%s", body)
			}
			if tt.pool != nil && strings.Contains(body, "in use") != tt.pool.Stats {
				t.Errorf("page shows the pool's figures: %v; want %v:\n%s", !tt.pool.Stats, tt.pool.Stats, body)
			}

			var page struct {
				Pool map[string]any `json:"pool"`
			}
			if err := json.Unmarshal([]byte(readPage(t, ins, "/?format=json")), &page); err != nil {
				t.Fatal(err)
			}
			if tt.json == "" {
				if page.Pool != nil {
					t.Errorf("JSON has pool %v; want none", page.Pool)
				}
				return
			}
			conns, _ := page.Pool["connections"].([]any)
			for k, c := range conns {
				c := c.(map[string]any)
				held, _ := c["held_ms"].(float64)
				if since := tt.pool.Connections[k].Since; held < float64(time.Since(since).Milliseconds())-1000 || held < 1000 {
					t.Errorf("connection %v: held_ms %v; want about %v", c["id"], held, time.Since(since))
				}
				if got, _ := time.Parse(time.RFC3339Nano, c["since"].(string)); !got.Equal(tt.pool.Connections[k].Since) {
					t.Errorf("connection %v: since %v; want %v", c["id"], got, tt.pool.Connections[k].Since)
				}
				delete(c, "held_ms")
				delete(c, "since")
			}
			got, _ := json.Marshal(page.Pool)
			if string(got) != tt.json {
				t.Errorf("JSON pool\n%s\nwant\n%s", got, tt.json)
			}
		})
	}
}
