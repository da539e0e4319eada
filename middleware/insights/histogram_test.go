package insights

import (
	"testing"
	"time"
)

// TestBuckets: every latency falls in the bucket whose bounds hold it,
// and the bounds tile the range without gaps.
func TestBuckets(t *testing.T) {
	for _, ns := range []int64{0, 1, 1023, 1024, 1151, 1152, 2047, 2048, 999_999, 1 << 36, 1<<37 - 1, 1 << 37, 1 << 62} {
		i := bucketOf(ns)
		lo, hi := bucketBounds(i)
		if i < numBuckets-1 && (ns < lo || ns >= hi) || i == numBuckets-1 && ns < lo {
			t.Errorf("%d ns: bucket %d [%d, %d)", ns, i, lo, hi)
		}
	}
	for i := 1; i < numBuckets; i++ {
		_, prevHi := bucketBounds(i - 1)
		if lo, _ := bucketBounds(i); lo != prevHi {
			t.Fatalf("bucket %d starts at %d; bucket %d ends at %d", i, lo, i-1, prevHi)
		}
	}
}

// TestQuantiles: the quantiles of known samples are within the bucket
// error, 1/16 of the value.
func TestQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	counts := h.snapshot()
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.95, 950 * time.Microsecond}, {0.99, 990 * time.Microsecond}, {1, 1000 * time.Microsecond}} {
		got := quantile(counts, tt.q, time.Millisecond)
		if d := got - tt.want; d < -tt.want/16 || d > tt.want/16 {
			t.Errorf("p%v = %v; want %v ± 1/16", tt.q*100, got, tt.want)
		}
	}
	if got := quantile(make([]uint64, numBuckets), 0.5, 0); got != 0 {
		t.Errorf("quantile of nothing = %v", got)
	}
}
