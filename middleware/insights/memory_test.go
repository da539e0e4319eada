package insights_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-databases/databases/middleware"
	"github.com/go-databases/databases/middleware/insights"
)

// heapInUse returns the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// memoryBound is the documented bound for the default table: 4 KB per
// query, plus the index of query texts (4 MiB) and its entries.
const memoryBound = insights.DefaultMaxQueries*4<<10 + 4<<20 + 4096*200

// TestMemoryBound: 100 000 distinct queries keep the table at its bound
// and memory within the documented one, and the heaviest queries, by
// total time, survive the eviction of the others; one that keeps coming
// back among the flood survives too.
func TestMemoryBound(t *testing.T) {
	ins := insights.New()
	ctx := context.Background()
	heavy := []string{"SELECT * FROM big_a", "SELECT * FROM big_b", "SELECT * FROM big_c"}
	before := heapInUse()
	for _, q := range heavy {
		for range 3 {
			run(ins, ctx, middleware.OpExec, q, 200*time.Millisecond, nil)
		}
	}
	const flood = 100_000
	for i := range flood {
		run(ins, ctx, middleware.OpExec, fmt.Sprintf("SELECT c%d FROM t", i), time.Microsecond, nil)
		if i%50 == 0 {
			run(ins, ctx, middleware.OpExec, "SELECT recurring FROM t", 20*time.Microsecond, nil)
		}
	}
	grown := int64(heapInUse()) - int64(before)
	st := ins.Stats()
	if st.Queries > insights.DefaultMaxQueries || st.Queries < insights.DefaultMaxQueries*9/10 || st.Evicted < flood-insights.DefaultMaxQueries {
		t.Errorf("stats %+v; want %d queries kept (a tenth less after an eviction) and at least %d evicted", st, insights.DefaultMaxQueries, flood-insights.DefaultMaxQueries)
	}
	if grown > memoryBound {
		t.Errorf("heap grew by %d bytes; want at most %d", grown, memoryBound)
	}
	t.Logf("heap grew by %d bytes for %d queries kept (bound %d)", grown, st.Queries, memoryBound)
	queries := ins.Queries()
	got := map[string]uint64{}
	for _, q := range queries {
		got[q.Summary] = q.Calls
	}
	for _, q := range heavy {
		if got[q] != 3 {
			t.Errorf("%s: %d calls; want its 3: the heaviest must survive", q, got[q])
		}
	}
	if got["SELECT recurring FROM t"] == 0 {
		t.Errorf("the recurring query was evicted")
	}
	if queries[0].Total < 600*time.Millisecond {
		t.Errorf("first query %q: total %v; want a heavy one first", queries[0].Summary, queries[0].Total)
	}
}

// TestBadInput: huge query texts, invalid UTF-8 and thousands of distinct
// queries a second, with the handler read at the same time: no panic, the
// texts cut, and the JSON and HTML well formed.
func TestBadInput(t *testing.T) {
	ins := insights.New(insights.WithMaxQueries(100))
	ctx := context.Background()
	huge := "INSERT INTO blobs VALUES ('" + strings.Repeat("x", 8<<20) + "')"
	hugeNames := "SELECT " + strings.Repeat("a_long_column_name, ", 100_000) + "b FROM t"
	bad := "SELECT 'caf\xe9' AS \"na\xffme\" FROM t\xc3"
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				var page jsonPage
				if err := json.Unmarshal([]byte(readPage(t, ins, "/?format=json&limit=0")), &page); err != nil {
					t.Error(err)
					return
				}
				if html := readPage(t, ins, "/"); !strings.HasSuffix(strings.TrimSpace(html), "</html>") {
					t.Error("page cut short")
					return
				}
			}
		})
	}
	start := time.Now()
	for i := range 10_000 {
		run(ins, ctx, middleware.OpExec, fmt.Sprintf("SELECT * FROM t%d WHERE a = ?", i), time.Microsecond, nil)
		if i%1000 == 0 {
			run(ins, ctx, middleware.OpExec, huge, time.Second, nil)
			run(ins, ctx, middleware.OpExec, hugeNames, time.Second, nil)
			run(ins, ctx, middleware.OpExec, bad, time.Second, nil)
		}
	}
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	t.Logf("10 000 distinct queries in %v", elapsed)

	got := map[string]insights.Query{}
	for _, q := range ins.Queries() {
		got[q.Summary] = q
		if len(q.Summary) > insights.MaxSummaryLen+len("…") {
			t.Errorf("summary of %d bytes: %.60q…", len(q.Summary), q.Summary)
		}
		if strings.Contains(q.Summary, "xxxx") {
			t.Errorf("summary keeps a literal: %.60q…", q.Summary)
		}
	}
	for _, want := range []string{"INSERT INTO blobs VALUES (...)", "SELECT ? AS \"na\uFFFDme\" FROM t\uFFFD"} {
		if q := got[want]; q.Calls != 10 {
			t.Errorf("%q: %d calls; want 10 (have %d summaries)", want, q.Calls, len(got))
		}
	}
	if st := ins.Stats(); st.Queries > 100 {
		t.Errorf("%d queries kept; want at most 100", st.Queries)
	}
}
