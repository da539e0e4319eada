package dsn

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
		hosts []Server
		dsns  []string // MySQL: the DSN of each host
		pick  HostPick
		dsn   string // the real driver's DSN
	}{
		{url: "mysql://u:pw@h1:3306,h2:3307,h3/db",
			hosts: []Server{{"h1", 3306}, {"h2", 3307}, {"h3", 3306}},
			dsns:  []string{"u:pw@tcp(h1:3306)/db?autocommit=1&parseTime=true", "u:pw@tcp(h2:3307)/db?autocommit=1&parseTime=true", "u:pw@tcp(h3)/db?autocommit=1&parseTime=true"}},
		{url: "mariadb://u@[::1]:3307,10.0.0.2/db?load_balance_hosts=random&target_session_attrs=read-only&connect_timeout=3&parseTime=true",
			hosts: []Server{{"::1", 3307}, {"10.0.0.2", 3306}},
			dsns:  []string{"u@tcp([::1]:3307)/db?parseTime=true&autocommit=1", "u@tcp(10.0.0.2)/db?parseTime=true&autocommit=1"},
			pick:  HostPick{Random: true, Target: "read-only", Timeout: 3 * time.Second}},
		{url: "mysql://u@h/db?target_session_attrs=any&load_balance_hosts=disable&connect_timeout=0",
			hosts: []Server{{"h", 3306}}, dsns: []string{"u@tcp(h)/db?autocommit=1&parseTime=true"}},
		{url: "postgres://u@h1,h2:5433/db?target_session_attrs=prefer-standby&connect_timeout=2&load_balance_hosts=random",
			hosts: []Server{{"h1", 5432}, {"h2", 5433}},
			pick:  HostPick{Random: true, Target: "prefer-standby", Timeout: 2 * time.Second},
			dsn:   "postgres://u@h1,h2:5433/db?target_session_attrs=prefer-standby&connect_timeout=2"},
		{url: "postgres://u@h1/db?target_session_attrs=any",
			hosts: []Server{{"h1", 5432}},
			dsn:   "postgres://u@h1/db?target_session_attrs=any"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			cfg, err := Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cfg.Hosts, tt.hosts) {
				t.Errorf("hosts = %v, want %v", cfg.Hosts, tt.hosts)
			}
			if !slices.Equal(cfg.HostDSNs, tt.dsns) {
				t.Errorf("host DSNs = %q, want %q", cfg.HostDSNs, tt.dsns)
			}
			if cfg.Pick != tt.pick {
				t.Errorf("pick = %+v, want %+v", cfg.Pick, tt.pick)
			}
			if tt.dsn != "" && cfg.DSN != tt.dsn {
				t.Errorf("dsn = %q, want %q", cfg.DSN, tt.dsn)
			}
		})
	}
}
