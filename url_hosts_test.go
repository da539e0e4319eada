package databases

import (
	"slices"
	"testing"
	"time"
)

// TestParseHostList: the hosts of a list, in order, with the dialect's
// port for a host that has none; the DSN of each MySQL host; the options
// that pick a host; and the options pgx reads itself passed on to it.
func TestParseHostList(t *testing.T) {
	tests := []struct {
		url   string
		hosts []server
		dsns  []string // MySQL: the DSN of each host
		pick  hostPick
		dsn   string // the real driver's DSN
	}{
		{url: "mysql://u:pw@h1:3306,h2:3307,h3/db",
			hosts: []server{{"h1", 3306}, {"h2", 3307}, {"h3", 3306}},
			dsns:  []string{"u:pw@tcp(h1:3306)/db?autocommit=1&parseTime=true", "u:pw@tcp(h2:3307)/db?autocommit=1&parseTime=true", "u:pw@tcp(h3)/db?autocommit=1&parseTime=true"}},
		{url: "mariadb://u@[::1]:3307,10.0.0.2/db?load_balance_hosts=random&target_session_attrs=read-only&connect_timeout=3&parseTime=true",
			hosts: []server{{"::1", 3307}, {"10.0.0.2", 3306}},
			dsns:  []string{"u@tcp([::1]:3307)/db?parseTime=true&autocommit=1", "u@tcp(10.0.0.2)/db?parseTime=true&autocommit=1"},
			pick:  hostPick{random: true, target: "read-only", timeout: 3 * time.Second}},
		{url: "mysql://u@h/db?target_session_attrs=any&load_balance_hosts=disable&connect_timeout=0",
			hosts: []server{{"h", 3306}}, dsns: []string{"u@tcp(h)/db?autocommit=1&parseTime=true"}},
		{url: "postgres://u@h1,h2:5433/db?target_session_attrs=prefer-standby&connect_timeout=2&load_balance_hosts=random",
			hosts: []server{{"h1", 5432}, {"h2", 5433}},
			pick:  hostPick{random: true, target: "prefer-standby", timeout: 2 * time.Second},
			dsn:   "postgres://u@h1,h2:5433/db?target_session_attrs=prefer-standby&connect_timeout=2"},
		{url: "postgres://u@h1/db?target_session_attrs=any",
			hosts: []server{{"h1", 5432}},
			dsn:   "postgres://u@h1/db?target_session_attrs=any"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			cfg, err := parseURL(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cfg.hosts, tt.hosts) {
				t.Errorf("hosts = %v, want %v", cfg.hosts, tt.hosts)
			}
			if !slices.Equal(cfg.hostDSNs, tt.dsns) {
				t.Errorf("host DSNs = %q, want %q", cfg.hostDSNs, tt.dsns)
			}
			if cfg.pick != tt.pick {
				t.Errorf("pick = %+v, want %+v", cfg.pick, tt.pick)
			}
			if tt.dsn != "" && cfg.dsn != tt.dsn {
				t.Errorf("dsn = %q, want %q", cfg.dsn, tt.dsn)
			}
		})
	}
}
