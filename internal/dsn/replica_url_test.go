package dsn

import (
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// TestReplicaURL checks the replica DSNs built from a URL: the primary's
// DSN with only the address replaced, the default port filled in, and the
// replica options read.
func TestReplicaURL(t *testing.T) {
	tests := []struct {
		url   string
		addrs []string
		dsns  []string
		ryw   bool
		wait  time.Duration
		lag   time.Duration
		toErr bool
	}{
		{url: "postgres://app:s%40cret@db1:5432/shop?sslmode=disable&replicas=r1:5433,r2",
			addrs: []string{"r1:5433", "r2:5432"},
			dsns:  []string{"postgres://app:s%40cret@r1:5433/shop?sslmode=disable", "postgres://app:s%40cret@r2:5432/shop?sslmode=disable"},
			ryw:   true, wait: time.Second},
		{url: "postgres://u@h/db?replicas=[::1]:6000&read_your_writes=false&max_replica_wait=250ms&max_replica_lag=3s&replica_fallback=error",
			addrs: []string{"[::1]:6000"}, dsns: []string{"postgres://u@[::1]:6000/db"},
			ryw: false, wait: 250 * time.Millisecond, lag: 3 * time.Second, toErr: true},
		{url: "mysql://root:p%2Fw@127.0.0.1:3306/test?parseTime=true&replicas=127.0.0.1:3307",
			addrs: []string{"127.0.0.1:3307"}, dsns: []string{"root:p/w@tcp(127.0.0.1:3307)/test?parseTime=true&autocommit=1"},
			ryw: true, wait: time.Second},
		{url: "mariadb://root@h/test?replicas=r1&read_your_writes=true",
			addrs: []string{"r1:3306"}, dsns: []string{"root@tcp(r1:3306)/test?autocommit=1&parseTime=true"}, ryw: true, wait: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			cfg, err := Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			ro := cfg.Replicas
			var addrs []string
			for _, a := range ro.Addrs {
				addrs = append(addrs, a.String())
			}
			if strings.Join(addrs, " ") != strings.Join(tt.addrs, " ") {
				t.Errorf("addrs = %v, want %v", addrs, tt.addrs)
			}
			for i, dsn := range ro.DSNs {
				want := tt.dsns[i]
				if cfg.Dialect == MySQL {
					// go-sql-driver orders its parameters itself: compare parsed.
					got, err1 := mysql.ParseDSN(dsn)
					exp, err2 := mysql.ParseDSN(want)
					if err1 != nil || err2 != nil || got.FormatDSN() != exp.FormatDSN() {
						t.Errorf("dsn %d = %q, want %q (%v %v)", i, dsn, want, err1, err2)
					}
					continue
				}
				if dsn != want {
					t.Errorf("dsn %d = %q, want %q", i, dsn, want)
				}
			}
			if ro.ReadYourWrites() != tt.ryw || ro.Wait() != tt.wait || ro.MaxLag != tt.lag || ro.FallbackError != tt.toErr {
				t.Errorf("ryw %v wait %v lag %v fallbackError %v; want %v %v %v %v", ro.ReadYourWrites(), ro.Wait(), ro.MaxLag, ro.FallbackError, tt.ryw, tt.wait, tt.lag, tt.toErr)
			}
			if strings.Contains(cfg.DSN, "replica") {
				t.Errorf("primary DSN %q carries a replica option", cfg.DSN)
			}
		})
	}
}
