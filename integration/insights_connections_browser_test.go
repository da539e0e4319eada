package integration

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/go-databases/databases"
)

// connRow is a row of the page's Connections table as the browser renders
// it.
type connRow struct {
	Conn     string `json:"conn"`
	OpenedAt string `json:"openedAt"`
	InTx     string `json:"inTx"`
	Query    string `json:"query"`
}

const readConnections = `Array.from(document.querySelectorAll('#connections tbody tr')).map(r => ({
	conn: r.cells[0].textContent,
	openedAt: r.cells[3].textContent,
	inTx: r.cells[4].textContent,
	query: r.cells[5].textContent,
}))`

// TestInsightsConnectionsInBrowser loads the insights page in Chromium
// while rows and a transaction are left open on a DB with insights=on and
// leak_threshold, and checks the rendered Connections table: one row per
// connection held, where this file opened it, whether in a transaction,
// its query; and the pool's figures above it.
func TestInsightsConnectionsInBrowser(t *testing.T) {
	ctx := browser(t)
	db, err := databases.Open("sqlite:///" + filepath.Join(t.TempDir(), "conns.db") + "?insights=on&leak_threshold=1m&max_open_conns=4")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT 1 AS held_by_rows")
	rowsAt := callerAbove()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	tx, err := db.Begin()
	txAt := callerAbove()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("SELECT 2 AS held_by_tx"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(databases.Insights(db).Handler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute) // see TestInsightsPageInBrowser
	defer cancel()

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#connections`))); err != nil {
		t.Fatal(err)
	}
	conns, err := chromedp.Run(ctx, chromedp.Evaluate[[]connRow](readConnections))
	if err != nil {
		t.Fatal(err)
	}
	pool, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#pool').textContent`))
	if err != nil {
		t.Fatal(err)
	}
	screenshot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}

	want := []connRow{
		{OpenedAt: rowsAt, InTx: "no", Query: "SELECT ? AS held_by_rows"},
		{OpenedAt: txAt, InTx: "yes", Query: "SELECT ? AS held_by_tx"},
	}
	if len(conns) != len(want) {
		t.Fatalf("%d rows in the Connections table; want %d: %+v", len(conns), len(want), conns)
	}
	for k, w := range want {
		c := conns[k]
		if c.OpenedAt != w.OpenedAt || c.InTx != w.InTx || c.Query != w.Query || c.Conn == "" {
			t.Errorf("row %d: %+v; want %+v", k, c, w)
		}
	}
	if !strings.Contains(pool, "2 in use") || !strings.Contains(pool, "at most 4") {
		t.Errorf("pool figures %q; want 2 in use, at most 4", pool)
	}
	path := filepath.Join(t.ArtifactDir(), "insights-connections.png")
	if err := os.WriteFile(path, screenshot, 0o644); err != nil {
		t.Fatal(err)
	}
}

// callerAbove is the file:line of the line above its caller's.
func callerAbove() string {
	_, file, line, _ := runtime.Caller(1)
	return fmt.Sprintf("%s:%d", file, line-1)
}
